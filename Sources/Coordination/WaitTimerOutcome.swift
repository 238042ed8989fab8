/// What a parked request's timer found.
public enum WaitTimerOutcome: Sendable, Equatable {
    /// Still waiting; check again at this monotonic time (ms).
    case waiting(nextCheck: Int64)
    /// The wait ran out and the waiter was removed (`BUSY`).
    case timedOut
    /// The waiter is no longer here (it was answered through the sink).
    case answered
}
