/// The result of a storage request, named after memcached's replies.
public enum StoreOutcome: Sendable, Equatable {
    /// `STORED`.
    case stored
    /// `NOT_STORED`: the condition of add/replace/append/prepend was not met.
    case notStored
    /// `EXISTS`: a `cas` whose unique no longer matches.
    case exists
    /// `NOT_FOUND`: a `cas` on a missing key.
    case notFound
    /// No memory and eviction is off (`-M`).
    case outOfMemory
}

/// The result of `incr`/`decr`.
public enum ArithmeticOutcome: Sendable, Equatable {
    /// The new value.
    case value(UInt64)
    /// The key is missing.
    case notFound
    /// The current value is not a decimal number.
    case nonNumeric
    /// The longer result did not fit and eviction is off (`-M`).
    case outOfMemory
}

/// Size and counters of a store, summed over its shards.
public struct StoreStatistics: Sendable {
    /// All zero.
    public init() {}

    /// Items currently linked.
    public var currentItems = 0
    /// Their bytes, as counted against the limit.
    public var bytes = 0
    /// Items ever linked.
    public var totalItems: UInt64 = 0
    /// Live items removed to make room.
    public var evictions: UInt64 = 0
    /// Expired items removed.
    public var reclaimed: UInt64 = 0
    /// Expired items that were never read.
    public var expiredUnfetched: UInt64 = 0
    /// Evicted items that were never read.
    public var evictedUnfetched: UInt64 = 0
    /// Reads that found their key expired or stale (memcached's `get_expired`).
    public var getExpired: UInt64 = 0

    /// Figures per memcached slab class, indexed by class id (empty when nothing was counted).
    public var classes: [ClassFigures] = []

    /// Adds `other`'s figures to these (summing shards, or regions).
    public mutating func add(_ other: StoreStatistics) {
        if classes.count < other.classes.count {
            classes += [ClassFigures](repeating: ClassFigures(), count: other.classes.count - classes.count)
        }
        for (id, figures) in other.classes.enumerated() { classes[id].add(figures) }
        currentItems += other.currentItems
        bytes += other.bytes
        totalItems &+= other.totalItems
        evictions &+= other.evictions
        reclaimed &+= other.reclaimed
        expiredUnfetched &+= other.expiredUnfetched
        evictedUnfetched &+= other.evictedUnfetched
        getExpired &+= other.getExpired
    }
}
