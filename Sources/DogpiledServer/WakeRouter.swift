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

    /// One message per worker for a whole batch: a value stored for 200 waiters costs each
    /// worker one mailbox post and one wake-up, not 50.
    func wake(_ tickets: [WaiterTicket], _ outcome: WakeOutcome) {
        let workers = installed.withLock { $0 }
        var perWorker: [Int: [(connection: UInt64, sequence: UInt64)]] = [:]
        for ticket in tickets {
            perWorker[ticket.requester.worker, default: []].append((ticket.requester.connection, ticket.sequence))
        }
        for (index, waiters) in perWorker where workers.indices.contains(index) {
            workers[index].post(.wakeMany(waiters, outcome: outcome))
        }
    }

    func wake(_ ticket: WaiterTicket, _ outcome: WakeOutcome) {
        let worker = installed.withLock { workers in
            workers.indices.contains(ticket.requester.worker) ? workers[ticket.requester.worker] : nil
        }
        worker?.post(.wake(connection: ticket.requester.connection, sequence: ticket.sequence, outcome: outcome))
    }
}
