import CacheStore

/// Everything a ``Server`` needs to start, with memcached's defaults.
public struct ServerConfiguration: Sendable {
    /// TCP port (`-p`); 0 picks a free one.
    public var port: Int = 11211
    /// Addresses to listen on (`-l`). dogpiled defaults to loopback, not to every interface.
    public var listenAddresses: [String] = ["127.0.0.1"]
    /// Unix socket path (`-s`); when set, TCP is off, as in memcached.
    public var unixSocketPath: String? = nil
    /// Unix socket file mode (`-a`, octal).
    public var unixSocketMode: UInt32 = 0o700
    /// Worker threads (`-t`).
    public var threads: Int = 4
    /// Maximum simultaneous client connections (`-c`).
    public var maxConnections: Int = 1024
    /// Memory limit in megabytes (`-m`).
    public var memoryLimitMegabytes: Int = 64
    /// Item size limit in bytes (`-I`).
    public var itemSizeLimit: Int = 1024 * 1024
    /// Whether to evict when memory is full (`-M` turns this off).
    public var evictionEnabled: Bool = true
    /// Requests handled per read event before other connections get a turn (`-R`).
    public var requestsPerEvent: Int = 20
    /// Listen backlog (`-b`).
    public var backlog: Int32 = 1024
    /// Verbosity (`-v` count).
    public var verbosity: Int = 0
    /// Pid file (`-P`), written once listening.
    public var pidFile: String? = nil
    /// Shard count of each region's store.
    public var shardCount: Int = 64
    /// Regions besides `default` (and optionally `default`'s own settings).
    public var regions: [RegionSettings] = []
    /// Bound on lock state: generation leases plus named mutexes (`max_locks`).
    public var maxLocks: Int = 100_000
    /// Default wait of `lock`/`rlock` without `wait_ms`, in milliseconds.
    public var lockWaitMilliseconds: Int = 5000

    /// Seconds without a byte received after which a connection with no parked request is closed
    /// (memcached's `-o idle_timeout=N`); 0 never closes (memcached's default).
    public var idleTimeoutSeconds: Int = 0
    /// Whether accepted TCP connections use keepalive probes (`SO_KEEPALIVE`).
    public var tcpKeepalive: Bool = true
    /// Seconds of silence before the first keepalive probe (`TCP_KEEPIDLE`).
    public var tcpKeepaliveIdleSeconds: Int = 60
    /// Seconds between keepalive probes (`TCP_KEEPINTVL`).
    public var tcpKeepaliveIntervalSeconds: Int = 10
    /// Unanswered probes before the kernel drops the connection (`TCP_KEEPCNT`).
    public var tcpKeepaliveProbes: Int = 6
    /// Bytes all connections together may buffer beyond each one's 16 KB base input buffer
    /// (half-received requests, what parked clients pipeline); 0 picks
    /// ``effectiveInputBufferLimit``'s default. A connection whose input cannot get memory is
    /// closed and counted (`read_buf_oom`).
    public var inputBufferLimitBytes: Int = 0

    /// The defaults.
    public init() {}

    /// The bound on buffered input in force: `inputBufferLimitBytes`, or by default a quarter of
    /// `-m` but room for at least four requests of the largest item.
    public var effectiveInputBufferLimit: Int {
        if inputBufferLimitBytes > 0 { return inputBufferLimitBytes }
        return max(memoryLimitBytes / 4, 4 * maximumRequestBytes)
    }

    /// The most one connection buffers: a request of the largest item with its command line, plus
    /// one read's worth.
    public var maximumRequestBytes: Int { itemSizeLimit + 2048 + 2 + 16 * 1024 }

    /// `-m` in bytes.
    public var memoryLimitBytes: Int { memoryLimitMegabytes * 1024 * 1024 }
}
