import CacheStore
import Coordination
import Synchronization

/// A ``WakeSink`` that only counts: the lock table's side of a wake-up (building the batch,
/// handing it over) is measured, not the server's mailbox behind it.
public final class CountingWakeSink: WakeSink {
    /// Wake-ups delivered since creation.
    public let delivered = Atomic<Int>(0)

    /// Creates a sink that has delivered nothing.
    public init() {}

    /// Counts the batch; a benchmark reads ``delivered`` to prove every waiter was answered.
    public func wake(_ wakes: [Wake<HeldItem>]) {
        delivered.add(wakes.count, ordering: .relaxed)
    }
}
