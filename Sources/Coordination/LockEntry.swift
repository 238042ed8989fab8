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
