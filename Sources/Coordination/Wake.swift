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
