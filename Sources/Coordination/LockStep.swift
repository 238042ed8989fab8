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
    @usableFromInline mutating func discardActions() { actions.removeAll() }

    /// Takes the busy action for `ticket` out, if any: the caller answers it directly.
    @usableFromInline mutating func takeBusy(for ticket: WaiterTicket) -> Bool {
        guard let index = actions.firstIndex(of: .busy(ticket)) else { return false }
        actions.remove(at: index)
        return true
    }
}
