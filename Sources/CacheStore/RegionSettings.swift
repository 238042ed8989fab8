/// The settings of one region (PROTOCOL.md section 3).
public struct RegionSettings: Sendable, Equatable {
    /// The name; keys `<name>:...` belong to the region. `default` holds every other key.
    public var name: String
    /// Memory budget in bytes, carved out of `-m`; nil for `default`, which gets the rest.
    public var memoryBytes: Int?
    /// Exptime (seconds, memcached rules) applied when a store gives 0; 0 means never.
    public var defaultExptime: Int32
    /// Seconds a stale copy is kept for `lockgen`.
    public var staleTTL: UInt32
    /// How long a `lockgen` without `wait_ms` waits, in milliseconds.
    public var lockWaitMilliseconds: Int
    /// β of early recompute (`lockgen ... early`): 1 is XFetch's optimum, 0 turns it off.
    public var earlyRecomputeBeta: Double = 1.0

    /// Creates settings with PROTOCOL.md's defaults.
    public init(name: String, memoryBytes: Int? = nil, defaultExptime: Int32 = 0, staleTTL: UInt32 = 60, lockWaitMilliseconds: Int = 5000) {
        self.name = name
        self.memoryBytes = memoryBytes
        self.defaultExptime = defaultExptime
        self.staleTTL = staleTTL
        self.lockWaitMilliseconds = lockWaitMilliseconds
    }
}
