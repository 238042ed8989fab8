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
    /// `--state-dir` / `state_dir`: a directory for state that must outlive the process (the
    /// fencing-token high-water mark). nil: none. Under systemd, `StateDirectory=` provides one.
    public var stateDirectory: String? = nil
    /// Default wait of `lock`/`rlock` without `wait_ms`, in milliseconds.
    public var lockWaitMilliseconds: Int = 5000

    /// The defaults.
    public init() {}

    /// `-m` in bytes.
    public var memoryLimitBytes: Int { memoryLimitMegabytes * 1024 * 1024 }
}
