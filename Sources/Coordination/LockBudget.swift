import Synchronization

/// The bound on lock state (`max_locks`): generation-lease entries and named mutexes together.
public final class LockBudget: Sendable {
    /// The most entries allowed.
    public let limit: Int
    private let used = Atomic<Int>(0)

    /// A budget of `limit` entries.
    public init(limit: Int) { self.limit = limit }

    /// Takes one entry; false when the table is full.
    public func reserve() -> Bool {
        if used.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue > limit {
            used.subtract(1, ordering: .sequentiallyConsistent)
            return false
        }
        return true
    }

    /// Gives one entry back.
    public func release() {
        used.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// Entries in use.
    public var count: Int { used.load(ordering: .sequentiallyConsistent) }
}
