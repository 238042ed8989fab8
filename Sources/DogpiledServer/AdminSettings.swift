import Synchronization

/// The settings memcached's administrative commands change while the server runs
/// (`cache_memlimit`, `lru_crawler`, `lru`, `slabs automove`, `stats detail`), as `stats` and
/// `stats settings` report them. Most only tune memcached's slab allocator and LRU threads,
/// which dogpiled does not have: they are kept so the commands answer and report as memcached
/// does (docs/compatibility.md, Commands).
public final class AdminSettings: Sendable {
    /// The item memory limit in bytes (`-m`, then `cache_memlimit`).
    public let memoryLimit: Atomic<Int>
    /// `lru_crawler enable|disable`: whether `lru_crawler crawl` and `metadump` run.
    public let crawlerEnabled = Atomic<Bool>(true)
    /// Crawls and metadumps started (`lru_crawler_starts`).
    public let crawlerStarts = Atomic<UInt64>(0)
    /// `lru_crawler sleep` in microseconds (reported only).
    public let crawlerSleep = Atomic<UInt32>(100)
    /// `lru_crawler tocrawl` (reported only).
    public let crawlerToCrawl = Atomic<UInt32>(0)
    /// `slabs automove` level (reported only).
    public let slabAutomove = Atomic<UInt32>(1)
    /// `slabs automove ratio`, as the bits of a Double (reported only).
    public let slabAutomoveRatio = Atomic<UInt64>((0.8).bitPattern)
    /// `lru tune` hot percentage (reported only).
    public let hotPercent = Atomic<UInt32>(20)
    /// `lru tune` warm percentage (reported only).
    public let warmPercent = Atomic<UInt32>(40)
    /// `lru tune` hot age factor, as the bits of a Double (reported only).
    public let hotMaxFactor = Atomic<UInt64>((0.2).bitPattern)
    /// `lru tune` warm age factor, as the bits of a Double (reported only).
    public let warmMaxFactor = Atomic<UInt64>((2.0).bitPattern)
    /// `lru mode segmented|flat` (reported only).
    public let segmented = Atomic<Bool>(true)
    /// `lru temp_ttl`: whether the temporary LRU is on (reported only).
    public let temporaryLRU = Atomic<Bool>(false)
    /// `lru temp_ttl`: the TTL below which memcached puts items in its temporary LRU.
    public let temporaryTTL = Atomic<Int32>(61)

    /// Settings at their memcached defaults, with `memoryBytes` as the limit.
    public init(memoryBytes: Int) {
        memoryLimit = Atomic(memoryBytes)
    }
}
