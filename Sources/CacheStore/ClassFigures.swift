/// One memcached slab class's figures for `stats items`: dogpiled has no slab classes, but
/// counts every item under the class memcached would put it in (``MemcachedSlabClasses``), the
/// class `me`, `stats cachedump` and `lru_crawler metadump` report, so tools that walk the
/// classes `stats items` lists find every item.
public struct ClassFigures: Sendable, Equatable {
    /// Items linked.
    public var number = 0
    /// Their sizes as memcached counts them (`ITEM_ntotal`).
    public var memoryRequested = 0
    /// Live items evicted.
    public var evicted: UInt64 = 0
    /// Expired items removed.
    public var reclaimed: UInt64 = 0
    /// Expired items removed without ever being read.
    public var expiredUnfetched: UInt64 = 0
    /// Evicted items that were never read.
    public var evictedUnfetched: UInt64 = 0

    /// All zero.
    public init() {}

    /// Adds `other`'s figures.
    mutating func add(_ other: ClassFigures) {
        number += other.number
        memoryRequested += other.memoryRequested
        evicted &+= other.evicted
        reclaimed &+= other.reclaimed
        expiredUnfetched &+= other.expiredUnfetched
        evictedUnfetched &+= other.evictedUnfetched
    }

    /// The counters `stats reset` zeroes; `number` and `memoryRequested` are state and stay.
    mutating func resetCounters() {
        evicted = 0
        reclaimed = 0
        expiredUnfetched = 0
        evictedUnfetched = 0
    }
}
