/// What a per-key lock entry asks its table to do after an event. The entry is a plain value;
/// the table keeps its indexes up to date from these and carries out the wake-ups once the shard
/// lock is released.
public enum LockAction: Sendable, Equatable {
    /// `requester` now holds or waits on the key: the table indexes the key under it.
    case joined(Requester)
    /// `requester` neither holds nor waits on the key any more.
    case left(Requester)
    /// Wake `ticket`: it now holds the lease or mutex with `token`.
    case grant(WaiterTicket, token: UInt64)
    /// Wake `ticket` with the value just stored.
    case deliver(WaiterTicket)
    /// Wake `ticket`: its wait ran out (`BUSY`).
    case busy(WaiterTicket)
    /// Wake `ticket`: the server is stopping.
    case shuttingDown(WaiterTicket)
    /// A hold of `requester` ran out (`leases_expired`, `mutex_expired`).
    case expired(Requester)
}

/// The context of one event on one entry: the time, the token sequence, and the actions the
/// entry emits.
public struct LockStep {
    /// Monotonic milliseconds at the event.
    public let now: Int64
    private let tokens: FencingTokens
    /// What the entry asked for, in order.
    public private(set) var actions: [LockAction] = []

    /// A step at `now`, drawing tokens from `tokens`.
    public init(now: Int64, tokens: FencingTokens) {
        self.now = now
        self.tokens = tokens
    }

    /// The next fencing token.
    public mutating func nextToken() -> UInt64 { tokens.next() }

    /// Records an action.
    public mutating func emit(_ action: LockAction) { actions.append(action) }

    /// Forgets the actions (an entry the table could not admit).
    mutating func discardActions() { actions.removeAll() }

    /// Takes the busy action for `ticket` out, if any: the caller answers it directly.
    mutating func takeBusy(for ticket: WaiterTicket) -> Bool {
        guard let index = actions.firstIndex(of: .busy(ticket)) else { return false }
        actions.remove(at: index)
        return true
    }
}

/// A per-key lock state machine held by a ``LockTable``: events in (as `mutating` functions
/// taking a ``LockStep``), actions out. It never blocks, reads no clock and touches nothing
/// outside itself, so every transition is tested without threads or time.
public protocol LockEntry {
    /// Which table this is (carried by wake-ups, so grants can be given back).
    static var kind: LockKind { get }
    /// Nothing held, nobody waiting.
    init()
    /// No hold and no waiter: the table drops the entry and gives its budget back.
    var isIdle: Bool { get }
    /// When something here next falls due (a hold's end or a waiter's deadline).
    var nextDeadline: Int64? { get }
    /// Holds (leases or mutex grants) in force.
    var holdCount: Int { get }
    /// Parked requests.
    var waiterCount: Int { get }
    /// Whether the parked request `ticket` still waits here.
    func waits(_ ticket: WaiterTicket) -> Bool
    /// Everyone who holds or waits here (the table's ownership index must match it).
    var participants: [Requester] { get }
    /// Time passed: ends overdue holds, answers overdue waiters with `BUSY`, serves the queue.
    mutating func advance(_ step: inout LockStep)
    /// A connection closed: ends its holds and drops its waits (without answering them).
    mutating func withdraw(_ requester: Requester, _ step: inout LockStep)
    /// The server stops: every waiter is answered `shuttingDown`.
    mutating func shutdown(_ step: inout LockStep)
}
