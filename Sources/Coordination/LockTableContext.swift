/// What the lease table and the mutex table share, and must share: one token sequence (so
/// tokens fence across both), one `max_locks` budget, one set of stampede counters, one clock and
/// one way to wake a parked request.
public struct LockTableContext<Value>: Sendable {
    /// The fencing-token sequence.
    public let tokens: FencingTokens
    /// The `max_locks` bound.
    public let budget: LockBudget
    /// The stampede counters.
    public let statistics: CoordinationStatistics
    /// Monotonic milliseconds (injected: tests move time by hand).
    public let clock: any MillisecondClock
    /// Where wake-ups go.
    public let sink: any WakeSink<Value>

    /// Bundles the shared parts.
    public init(
        tokens: FencingTokens, budget: LockBudget, statistics: CoordinationStatistics,
        clock: any MillisecondClock = MonotonicClock(), sink: any WakeSink<Value>
    ) {
        self.tokens = tokens
        self.budget = budget
        self.statistics = statistics
        self.clock = clock
        self.sink = sink
    }
}
