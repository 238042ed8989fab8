/// What `lockstate` and `genstate` report of a name or key: a read that changes nothing.
public struct LockState: Sendable, Equatable {
    /// Holds in force: mutex grants, or 1 for a generation lease.
    public var holders: Int
    /// Whether the hold is exclusive (`lock`, or a generation lease).
    public var exclusive: Bool
    /// Parked requests.
    public var waiters: Int

    /// Nothing held, nobody waiting (and no entry in the table).
    public static let free = LockState(holders: 0, exclusive: false, waiters: 0)

    /// A state.
    public init(holders: Int, exclusive: Bool, waiters: Int) {
        self.holders = holders
        self.exclusive = exclusive
        self.waiters = waiters
    }
}
