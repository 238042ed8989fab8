import CacheStore
import Coordination
import Synchronization

/// Delivers the lock tables' wake-ups to the worker that owns the waiting connection, through
/// that worker's mailbox: a connection is only ever touched by its own thread.
final class WakeRouter: WakeSink, @unchecked Sendable {
    private let installed = PThreadLocked<[Worker]>([])

    /// Sets the workers; called once, before any connection exists.
    func install(_ workers: [Worker]) {
        installed.withLock { $0 = workers }
    }

    /// One message per worker for a whole batch: a value stored for 200 waiters costs each
    /// worker one mailbox post and one wake-up, not 50.
    func wake(_ wakes: [Wake<HeldItem>]) {
        let workers = installed.withLock { $0 }
        if wakes.count == 1, let wake = wakes.first {
            if workers.indices.contains(wake.ticket.requester.worker) { workers[wake.ticket.requester.worker].post(.wake(wakes)) }
            return
        }
        var perWorker: [Int: [Wake<HeldItem>]] = [:]
        for wake in wakes { perWorker[wake.ticket.requester.worker, default: []].append(wake) }
        for (index, batch) in perWorker where workers.indices.contains(index) {
            workers[index].post(.wake(batch))
        }
    }
}
