/// The settings table: every top-level setting of dogpiled, once. Flags, the config file,
/// `--check-config` and the SIGHUP planner read it; see ``Setting``.
///
/// Ranges are what dogpiled can honour without overflow or absurdity; each is stated in the
/// error a value outside it gets.
public enum Settings {
    /// The largest `-m` (4 TiB): keeps every byte count derived from it far from `Int.max`.
    public static let maximumMemory = 1 << 42

    /// Every top-level setting, in the order the shipped config file lists them.
    public static let all: [Setting] = [
        integer("port", flags: ["-p", "--port"], 0...65535, nil, .restart, "TCP port; 0 picks a free one", \.port),
        Setting("listen", flags: ["-l", "--listen"], .addresses, .restart, "addresses to listen on",
                read: { .strings($0.listenAddresses) },
                write: { if case .strings(let list) = $1 { $0.listenAddresses = list } }),
        path("unix_socket", flags: ["-s", "--unix-socket"], emptyMeansNone: true, "Unix socket path; turns TCP off", \.unixSocketPath),
        Setting("unix_mask", flags: ["-a", "--unix-mask"], .octalMode, .restart, "Unix socket file mode, octal",
                read: { .integer(Int($0.unixSocketMode)) },
                write: { if case .integer(let mode) = $1 { $0.unixSocketMode = UInt32(mode) } }),
        integer("threads", flags: ["-t", "--threads"], 1...1024, nil, .restart, "worker threads", \.threads),
        integer("max_connections", flags: ["-c", "--conn-limit"], 1...10_000_000, nil, .restart,
                "simultaneous client connections (the descriptor limit is raised to fit, or start-up fails)", \.maxConnections),
        Setting("memory", flags: ["-m", "--memory-limit"], .size((1 << 20)...maximumMemory, flagUnit: 1 << 20), .restart,
                "item memory; a bare -m number is megabytes",
                read: { .integer($0.memoryLimitMegabytes << 20) },
                write: { if case .integer(let bytes) = $1 { $0.memoryLimitMegabytes = bytes >> 20 } }),
        Setting("item_size_max", flags: ["-I", "--max-item-size"], .size(1024...(1 << 30), flagUnit: 1), .restart,
                "item size limit; a bare -I number is bytes",
                read: { .integer($0.itemSizeLimit) },
                write: { if case .integer(let bytes) = $1 { $0.itemSizeLimit = bytes } }),
        boolean("evictions", flags: [], "evict when memory is full (-M turns this off)", \.evictionEnabled),
        boolean("cas_enabled", flags: [], "clients see CAS uniques (-C turns this off)", \.casEnabled),
        boolean("shutdown_command", flags: [], "allow the shutdown command (-A, --enable-shutdown)", \.shutdownEnabled),
        boolean("dump_enabled", flags: [], "allow stats cachedump and lru_crawler metadump (-X, --disable-dumping, turns this off)", \.dumpEnabled),
        boolean("flush_enabled", flags: [], "allow flush_all (-F, --disable-flush-all, turns this off)", \.flushEnabled),
        boolean("watch_enabled", flags: [], "memcached's watch switch (-W, --disable-watch); dogpiled refuses watch either way", \.watchEnabled),
        Setting("stat_key_prefix", flags: ["-D"], .character, .restart,
                "delimiter between key prefix and the rest for stats detail; -D also turns stats detail on",
                read: { .string(String(UnicodeScalar($0.statPrefixDelimiter))) },
                write: { if case .string(let text?) = $1, let byte = text.utf8.first { $0.statPrefixDelimiter = byte } }),
        boolean("detail_enabled", flags: [], "collect per-prefix statistics from the start (stats detail on)", \.detailEnabled),
        integer("requests_per_event", flags: ["-R", "--max-reqs-per-event"], 1...1_000_000, nil, .restart,
                "requests per read event before yielding", \.requestsPerEvent),
        Setting("backlog", flags: ["-b", "--listen-backlog"], .integer(1...65535, unit: nil), .restart, "listen backlog",
                read: { .integer(Int($0.backlog)) },
                write: { if case .integer(let value) = $1 { $0.backlog = Int32(value) } }),
        integer("verbosity", flags: [], 0...2, nil, .live, "0 info, 1 debug (-v), 2 trace (-vv)", \.verbosity),
        integer("max_locks", flags: ["--max-locks"], 1...100_000_000, nil, .restart,
                "bound on generation leases plus named mutexes", \.maxLocks),
        integer("lock_wait_ms", flags: ["--lock-wait-ms"], 0...600_000, "milliseconds", .live,
                "default wait of lock/rlock", \.lockWaitMilliseconds),
        path("pidfile", flags: ["-P", "--pidfile"], emptyMeansNone: false, "pid file, removed on a clean exit", \.pidFile),
        integer("idle_timeout", flags: [], option: "idle_timeout", 0...2_592_000, "seconds", .restart,
                "close a connection idle this long (0: never)", \.idleTimeoutSeconds),
        boolean("tcp_keepalive", flags: ["--tcp-keepalive"], "TCP keepalive on accepted connections", \.tcpKeepalive),
        integer("tcp_keepalive_idle", flags: ["--tcp-keepalive-idle"], 1...32767, "seconds", .restart,
                "silence before the first keepalive probe", \.tcpKeepaliveIdleSeconds),
        integer("tcp_keepalive_interval", flags: ["--tcp-keepalive-interval"], 1...32767, "seconds", .restart,
                "time between keepalive probes", \.tcpKeepaliveIntervalSeconds),
        integer("tcp_keepalive_count", flags: ["--tcp-keepalive-count"], 1...127, nil, .restart,
                "unanswered probes before the connection is dropped", \.tcpKeepaliveProbes),
        path("state_dir", flags: ["--state-dir"], emptyMeansNone: false, "directory for state kept across restarts", \.stateDirectory),
        Setting("input_buffer_limit", flags: ["--input-buffer-limit"], .size((1 << 20)...maximumMemory, flagUnit: 1 << 20), .restart,
                "bound on the input all connections buffer together beyond 16 KB each (default: a quarter of memory, room for four of the largest requests at least); a connection over it is closed and counted in read_buf_oom",
                read: { .integer($0.inputBufferLimitBytes) },  // 0: the automatic default
                write: { if case .integer(let bytes) = $1 { $0.inputBufferLimitBytes = bytes } }),
        path("auth_file", flags: ["-Y", "--auth-file"], emptyMeansNone: false,
             "memcached's ASCII authentication: user:password lines; re-read on SIGHUP", \.authFile),
    ] + tls

    /// The row for config key `key`.
    public static func named(_ key: String) -> Setting? { all.first { $0.key == key } }

    /// The row a command-line spelling (`-c`, `--conn-limit`) belongs to.
    public static func flag(_ spelling: String) -> Setting? { all.first { $0.flags.contains(spelling) } }

    /// The row for memcached `-o` name `name`.
    public static func extendedOption(_ name: String) -> Setting? { all.first { $0.extendedOption == name } }

    private static func integer(
        _ key: String, flags: [String], option: String? = nil, _ range: ClosedRange<Int>, _ unit: String?,
        _ reload: Setting.Reload, _ summary: String, _ field: WritableKeyPath<ServerConfiguration, Int> & Sendable
    ) -> Setting {
        Setting(key, flags: flags, option: option, .integer(range, unit: unit), reload, summary,
                read: { .integer($0[keyPath: field]) },
                write: { if case .integer(let value) = $1 { $0[keyPath: field] = value } })
    }

    private static func boolean(
        _ key: String, flags: [String], _ summary: String, _ field: WritableKeyPath<ServerConfiguration, Bool> & Sendable
    ) -> Setting {
        Setting(key, flags: flags, .boolean, .restart, summary,
                read: { .boolean($0[keyPath: field]) },
                write: { if case .boolean(let value) = $1 { $0[keyPath: field] = value } })
    }

    private static func path(
        _ key: String, flags: [String], emptyMeansNone: Bool, _ summary: String,
        _ field: WritableKeyPath<ServerConfiguration, String?> & Sendable
    ) -> Setting {
        Setting(key, flags: flags, .path(emptyMeansNone: emptyMeansNone), .restart, summary,
                read: { .string($0[keyPath: field]) },
                write: { if case .string(let value) = $1 { $0[keyPath: field] = value } })
    }
}
