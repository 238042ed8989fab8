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
    private let beta: Atomic<UInt64>
    private let regenerations = Atomic<UInt64>(0)
    private let regenerationMilliseconds = Atomic<UInt64>(0)

    init(index: Int, settings: RegionSettings, memoryLimit: Int, base: StoreConfiguration, clock: ServerClock, casSequence: CASSequence) {
        self.index = index
        self.name = settings.name
        var configuration = base
        configuration.memoryLimit = memoryLimit
        configuration.staleTTL = settings.staleTTL
        self.store = Store(configuration: configuration, clock: clock, casSequence: casSequence)
        self.exptime = Atomic(settings.defaultExptime)
        self.lockWait = Atomic(settings.lockWaitMilliseconds)
        self.beta = Atomic(settings.earlyRecomputeBeta.bitPattern)
    }

    /// β of early recompute; 0 turns it off.
    public var earlyRecomputeBeta: Double {
        get { Double(bitPattern: beta.load(ordering: .relaxed)) }
        set { beta.store(newValue.bitPattern, ordering: .relaxed) }
    }

    /// Counts a regeneration stored by `setgen` that took `milliseconds` from its grant.
    public func recordRegeneration(milliseconds: Int64) {
        regenerations.wrappingAdd(1, ordering: .relaxed)
        regenerationMilliseconds.wrappingAdd(UInt64(max(0, milliseconds)), ordering: .relaxed)
    }

    /// Regenerations stored by `setgen`, and their mean time from grant to store in ms.
    public var regenerationFigures: (count: UInt64, meanMilliseconds: UInt64) {
        let count = regenerations.load(ordering: .relaxed)
        let total = regenerationMilliseconds.load(ordering: .relaxed)
        return (count, count == 0 ? 0 : total / count)
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
