import Coordination
import Synchronization

/// Delivers the lock tables' wake-ups to the worker that owns the waiting connection, through
/// that worker's mailbox: a connection is only ever touched by its own thread.
final class WakeRouter: WakeSink, @unchecked Sendable {
    private let installed = Mutex<[Worker]>([])

    /// Sets the workers; called once, before any connection exists.
    func install(_ workers: [Worker]) {
        installed.withLock { $0 = workers }
    }

    func wake(_ ticket: WaiterTicket, _ outcome: WakeOutcome) {
        let worker = installed.withLock { workers in
            workers.indices.contains(ticket.requester.worker) ? workers[ticket.requester.worker] : nil
        }
        worker?.post(.wake(connection: ticket.requester.connection, sequence: ticket.sequence, outcome: outcome))
    }
}
