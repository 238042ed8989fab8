/// Which table a wake-up comes from: a grant is given back through the table that made it.
public enum LockKind: Sendable, Equatable {
    /// A generation lease (`lockgen`).
    case generation
    /// A named mutex (`lock`, `rlock`).
    case mutex
}

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

/// One wake-up: whom, about which key of which table, and the answer. The key and the kind are
/// there so that a grant reaching a connection that no longer waits can be given back.
public struct Wake<Value>: @unchecked Sendable {
    /// The parked request.
    public var ticket: WaiterTicket
    /// The key or mutex name it waited on.
    public var key: LockKey
    /// The table it waited in.
    public var kind: LockKind
    /// The answer.
    public var outcome: WakeOutcome<Value>

    /// Bundles a wake-up.
    public init(ticket: WaiterTicket, key: LockKey, kind: LockKind, outcome: WakeOutcome<Value>) {
        self.ticket = ticket
        self.key = key
        self.kind = kind
        self.outcome = outcome
    }
}

/// Delivers wake-ups; the server posts them to the waiters' worker mailboxes. The tables call it
/// only after releasing their locks, with every wake-up of one event in one batch.
public protocol WakeSink<Value>: AnyObject, Sendable {
    /// What a stored value is (the server's item).
    associatedtype Value
    /// Answers the parked requests.
    func wake(_ wakes: [Wake<Value>])
}

/// What a parked request's timer found.
public enum WaitTimerOutcome: Sendable, Equatable {
    /// Still waiting; check again at this monotonic time (ms).
    case waiting(nextCheck: Int64)
    /// The wait ran out and the waiter was removed (`BUSY`).
    case timedOut
    /// The waiter is no longer here (it was answered through the sink).
    case answered
}
