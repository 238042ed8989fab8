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
