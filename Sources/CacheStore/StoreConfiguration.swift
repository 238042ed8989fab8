/// How a ``Store`` is sized and what it may do when full.
public struct StoreConfiguration: Sendable {
    /// Memory limit in bytes, counting each item's whole footprint (`-m`).
    public var memoryLimit: Int
    /// Whether the least recently used items are evicted when full; if not, stores fail (`-M`).
    public var evictionEnabled: Bool
    /// Number of independently locked shards (a power of two).
    public var shardCount: Int
    /// Seconds a stale copy (expired or soft-invalidated) is kept for `lockgen`.
    public var staleTTL: UInt32
    /// Whether items carry CAS uniques (memcached's `-C` turns this off): when off, items have
    /// no CAS field (8 bytes less each), replies carry 0, and client compares behave as against
    /// memcached's CAS-less items.
    public var casEnabled: Bool
    /// Decides whether an item of this shape is within the item size limit; used when append or
    /// prepend grows a value.
    public var itemFits: @Sendable (_ keyCount: Int, _ flags: UInt32, _ valueCount: Int) -> Bool

    /// Creates a configuration.
    public init(
        memoryLimit: Int = 64 * 1024 * 1024,
        evictionEnabled: Bool = true,
        shardCount: Int = 64,
        staleTTL: UInt32 = 60,
        casEnabled: Bool = true,
        itemFits: @escaping @Sendable (Int, UInt32, Int) -> Bool = { _, _, count in count <= 1024 * 1024 }
    ) {
        precondition(shardCount > 0 && shardCount & (shardCount - 1) == 0, "shardCount must be a power of two")
        self.memoryLimit = memoryLimit
        self.evictionEnabled = evictionEnabled
        self.shardCount = shardCount
        self.staleTTL = staleTTL
        self.casEnabled = casEnabled
        self.itemFits = itemFits
    }
}
