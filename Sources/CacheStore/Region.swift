import Synchronization

/// A named partition of the cache: its own store (memory budget, LRU), default exptime, stale
/// TTL and lock wait.
public final class Region: Sendable {
    /// The region's name.
    public let name: String
    /// Its position in ``RegionSet/all``.
    public let index: Int
    /// Its items.
    public let store: Store
    private let exptime: Atomic<Int32>
    private let lockWait: Atomic<Int>

    init(index: Int, settings: RegionSettings, memoryLimit: Int, base: StoreConfiguration, clock: ServerClock, casSequence: CASSequence) {
        self.index = index
        self.name = settings.name
        var configuration = base
        configuration.memoryLimit = memoryLimit
        configuration.staleTTL = settings.staleTTL
        self.store = Store(configuration: configuration, clock: clock, casSequence: casSequence)
        self.exptime = Atomic(settings.defaultExptime)
        self.lockWait = Atomic(settings.lockWaitMilliseconds)
    }

    /// Exptime used when a store gives 0.
    public var defaultExptime: Int32 {
        get { exptime.load(ordering: .relaxed) }
        set { exptime.store(newValue, ordering: .relaxed) }
    }

    /// Default `lockgen` wait in milliseconds.
    public var lockWaitMilliseconds: Int {
        get { lockWait.load(ordering: .relaxed) }
        set { lockWait.store(newValue, ordering: .relaxed) }
    }

    /// The store exptime for a protocol exptime: 0 takes the region's default.
    @inline(__always)
    public func effectiveExptime(_ exptime: Int32) -> Int32 {
        exptime == 0 ? defaultExptime : exptime
    }
}
