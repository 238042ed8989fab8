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
