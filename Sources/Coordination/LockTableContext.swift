/// What the lease table and the mutex table share, and must share: one token sequence (so
/// tokens fence across both), one `max_locks` budget, one set of stampede counters and one way
/// to wake a parked request.
public struct LockTableContext: Sendable {
    /// The fencing-token sequence.
    public let tokens: FencingTokens
    /// The `max_locks` bound.
    public let budget: LockBudget
    /// The stampede counters.
    public let statistics: CoordinationStatistics
    /// Where wake-ups go.
    public let sink: any WakeSink

    /// Bundles the shared parts.
    public init(tokens: FencingTokens, budget: LockBudget, statistics: CoordinationStatistics, sink: any WakeSink) {
        self.tokens = tokens
        self.budget = budget
        self.statistics = statistics
        self.sink = sink
    }
}
