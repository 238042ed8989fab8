/// The answer to `lock` / `rlock`.
public enum MutexOutcome: Equatable, Sendable {
    /// Granted (`LOCKED <token>`).
    case locked(token: UInt64)
    /// Not granted, no waiting (`BUSY`).
    case busy
    /// Waiting; check again at `nextCheck` ms.
    case parked(nextCheck: Int64)
    /// The table is full (`SERVER_ERROR too many locks`).
    case tooManyLocks
    /// The server is stopping (`SERVER_ERROR shutting down`).
    case shuttingDown
}
