/// How a parked request is answered.
///
/// `@unchecked Sendable`: the only payload that is not `Sendable` is a stored item, which is
/// immutable once stored and is retained for the waiter at store time; it crosses to the
/// waiter's worker through that worker's mailbox.
public enum WakeOutcome<Value>: @unchecked Sendable {
    /// The key was stored: the value, retained for the waiter (`lockgen` → `HIT`).
    case value(Value)
    /// The waiter now holds the lease or mutex with this token (`GEN`/`LOCKED`).
    case granted(token: UInt64)
    /// The wait ran out before anything else answered it (`BUSY`).
    case timedOut
    /// The server is stopping.
    case shuttingDown
}
