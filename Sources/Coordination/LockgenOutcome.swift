/// The answer to `lockgen`.
public enum LockgenOutcome<Value> {
    /// A fresh value (`HIT`).
    case hit(Value)
    /// The caller holds the new lease; `stale` is the stale copy to show, if any (`GEN`).
    case generate(token: UInt64, stale: Value?)
    /// Someone else regenerates; here is the stale copy (`STALE`).
    case stale(Value)
    /// Nothing to return and no waiting allowed (`BUSY`).
    case busy
    /// The request waits; check again (``LockTable/checkTimers(_:ticket:now:)``) at `nextCheck` ms.
    case parked(nextCheck: Int64)
    /// The table is full (`SERVER_ERROR too many locks`).
    case tooManyLocks
    /// The server is stopping (`SERVER_ERROR shutting down`).
    case shuttingDown
}
