/// Who asked: a connection on a worker thread. Tables use it to recognise a holder's own requests
/// and to route wake-ups to the right event loop.
public struct Requester: Hashable, Sendable {
    /// The worker thread that owns the connection.
    public var worker: Int
    /// The connection's serial number (unique for the life of the server; descriptors are reused).
    public var connection: UInt64

    /// Creates a reference.
    public init(worker: Int, connection: UInt64) {
        self.worker = worker
        self.connection = connection
    }
}

/// A parked request: who, and which of its requests (a connection parks one at a time, but a
/// late wake-up for an earlier request must not answer a later one).
public struct WaiterTicket: Hashable, Sendable {
    /// The connection.
    public var requester: Requester
    /// A number the connection chose for this wait.
    public var sequence: UInt64

    /// Creates a ticket.
    public init(requester: Requester, sequence: UInt64) {
        self.requester = requester
        self.sequence = sequence
    }
}

/// How a parked request is answered.
public enum WakeOutcome: @unchecked Sendable {
    /// The key was stored: the value, retained for the waiter (`lockgen` → `HIT`).
    case value(AnyObject)
    /// The waiter now holds the lease or mutex with this token (`GEN`/`LOCKED`).
    case granted(token: UInt64)
    /// The server is stopping.
    case shuttingDown
}

/// Delivers wake-ups; the server posts them to the waiter's worker mailbox.
public protocol WakeSink: AnyObject, Sendable {
    /// Answers the parked request `ticket` (may be called with a table lock held: must not block).
    func wake(_ ticket: WaiterTicket, _ outcome: WakeOutcome)
    /// Answers many parked requests with the same outcome (a stored value for every waiter).
    func wake(_ tickets: [WaiterTicket], _ outcome: WakeOutcome)
}

extension WakeSink {
    /// One by one, for sinks with nothing better to do.
    public func wake(_ tickets: [WaiterTicket], _ outcome: WakeOutcome) {
        for ticket in tickets { wake(ticket, outcome) }
    }
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
