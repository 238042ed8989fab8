import CacheStore

/// Everything a server needs to start, with memcached's defaults.
///
/// The fields are written only through the ``Settings`` table (flags, the config file, a reload),
/// which range-checks every value first, so arithmetic on them (e.g. ``memoryLimitBytes``)
/// cannot overflow.
public struct ServerConfiguration: Sendable, Equatable {
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
    /// Whether clients see CAS uniques (`-C` turns this off, as memcached's `--disable-cas`):
    /// when off, every reply carries CAS 0, `cas` and `ms C` never match, `md`/`ma` match only
    /// `C0`. Items still keep their internal sequence number, which region invalidation orders by.
    public var casEnabled: Bool = true
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
    /// memcached's `-o idle_timeout=N` (`idle_timeout`): a connection that has received nothing
    /// for this many seconds and has no request parked is closed (and counted in `idle_kicks`),
    /// releasing any leases and mutexes it holds. 0, memcached's default, never closes one.
    public var idleTimeoutSeconds: Int = 0
    /// `tcp_keepalive`: whether accepted TCP connections get `SO_KEEPALIVE`, with the probe times
    /// below instead of the kernel's two hours, so a peer that vanished without a FIN or RST is
    /// noticed and its connection slot, leases and mutexes freed.
    public var tcpKeepalive: Bool = true
    /// `tcp_keepalive_idle`: seconds of silence before the first probe (`TCP_KEEPIDLE`).
    public var tcpKeepaliveIdleSeconds: Int = 60
    /// `tcp_keepalive_interval`: seconds between unanswered probes (`TCP_KEEPINTVL`).
    public var tcpKeepaliveIntervalSeconds: Int = 10
    /// `tcp_keepalive_count`: unanswered probes before the kernel drops the connection
    /// (`TCP_KEEPCNT`).
    public var tcpKeepaliveProbes: Int = 6
    /// `--state-dir` / `state_dir`: a directory for state that must outlive the process (the
    /// fencing-token high-water mark). nil: none. Under systemd, `StateDirectory=` provides one.
    public var stateDirectory: String? = nil

    /// memcached's `-A` (`--enable-shutdown`): whether the `shutdown` command stops the server.
    public var shutdownEnabled: Bool = false
    /// memcached's `-X` (`--disable-dumping`) turns this off: `stats cachedump` and
    /// `lru_crawler metadump` are refused.
    public var dumpEnabled: Bool = true
    /// memcached's `-F` (`--disable-flush-all`) turns this off: `flush_all` is refused.
    public var flushEnabled: Bool = true
    /// memcached's `-W` (`--disable-watch`) turns this off. dogpiled has no `watch` stream, so it
    /// refuses `watch` either way; the flag is accepted so memcached command lines start.
    public var watchEnabled: Bool = true
    /// memcached's `-D <char>`: the byte between a key's prefix and the rest for `stats detail`;
    /// giving it also turns the per-prefix statistics on, as in memcached.
    public var statPrefixDelimiter: UInt8 = UInt8(ascii: ":")
    /// Whether per-prefix statistics (`stats detail`) are collected from the start (`-D`).
    public var detailEnabled: Bool = false
    /// `-o no_lru_crawler` turns this off: `lru_crawler crawl` and `metadump` answer memcached's
    /// `CLIENT_ERROR lru crawler disabled` until `lru_crawler enable`.
    public var lruCrawlerEnabled: Bool = true

    /// Bytes all connections together may buffer beyond each one's 16 KB base input buffer
    /// (half-received requests, what parked clients pipeline); 0 picks
    /// ``effectiveInputBufferLimit``'s default. A connection whose input cannot get memory is
    /// closed and counted (`read_buf_oom`). `input_buffer_limit` in the file.
    public var inputBufferLimitBytes: Int = 0

    /// memcached's `-Y <file>` (`auth_file`): ASCII authentication. Every connection must first
    /// send `set <any> <flags> <exptime> <bytes>` with `user pass` as its data, matching a
    /// `user:password` line of the file (re-read on SIGHUP). nil: off.
    public var authFile: String? = nil

    /// memcached's `-Z`: TLS on every TCP listener except those given as `notls:<host>:<port>`.
    public var tlsEnabled: Bool = false
    /// `ssl_chain_cert`: the server's certificate chain (PEM).
    public var sslChainCertificate: String? = nil
    /// `ssl_key`: the private key.
    public var sslPrivateKey: String? = nil
    /// `ssl_keyformat`: 1 PEM, 2 DER.
    public var sslKeyFormat: Int = 1
    /// `ssl_verify_mode`: 0 none, 1 request, 2 require, 3 require once.
    public var sslVerifyMode: Int = 0
    /// `ssl_ciphers`: OpenSSL cipher list; nil: OpenSSL's default.
    public var sslCiphers: String? = nil
    /// `ssl_ca_cert`: client CAs (PEM).
    public var sslCACertificate: String? = nil
    /// `ssl_wbuf_size`: kilobytes of output per TLS record written (memcached: 16).
    public var sslWriteBufferKilobytes: Int = 16
    /// `ssl_session_cache`: server-side session cache.
    public var sslSessionCache: Bool = false
    /// `ssl_kernel_tls`: kernel TLS offload where OpenSSL and the kernel offer it.
    public var sslKernelTLS: Bool = false
    /// `ssl_min_version`: 0 TLS 1.0 ... 3 TLS 1.3 (memcached: 2).
    public var sslMinimumVersion: Int = 2
    /// `tls_handshake_timeout` (dogpiled's): seconds a TLS client has to complete its handshake
    /// before it is disconnected, so connections that never finish one cannot pile up.
    public var tlsHandshakeTimeoutSeconds: Int = 10

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
