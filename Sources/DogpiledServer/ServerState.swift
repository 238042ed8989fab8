import CacheStore
import Coordination
import EventLoop
import Logging
import MemcacheProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What every worker shares: the store, the clock, the limits and the server-wide counters.
public final class ServerState: Sendable {
    /// The version reported by `version` and `stats`: the memcached release whose protocol
    /// dogpiled follows, then dogpiled's own version, so clients that gate features on the
    /// memcached version behave as with 1.6.18.
    public static let version = "1.6.18-dogpiled-0.1.0"

    /// The settings the server started with.
    public let configuration: ServerConfiguration
    /// The regions and their stores.
    public let regions: RegionSet
    /// Generation leases (`lockgen`).
    public let leases: LeaseTable<HeldItem>
    /// Named mutexes (`lock`, `rlock`).
    public let mutexes: MutexTable<HeldItem>
    /// The stampede counters.
    public let coordinationStatistics = CoordinationStatistics()
    /// Lease and mutex entries in use against `max_locks`.
    public let lockBudget: LockBudget
    /// Routes wake-ups to the waiting connection's worker.
    let wakeRouter = WakeRouter()
    /// Serial numbers for connections.
    let connectionSerials = Atomic<UInt64>(0)
    /// The expiry clock.
    public let clock: ServerClock
    /// Parser limits derived from the configuration.
    public let parserLimits: TextParser.Limits
    /// Whether replies show items' CAS uniques (not under `-C`): read per VALUE line, so kept
    /// here rather than fetched from ``configuration`` each time.
    let reportsCAS: Bool
    /// Logging.
    public let logger: Logger
    /// What the administrative commands change at run time (memory limit, crawler, LRU tuning).
    public let admin: AdminSettings
    /// Open sockets for `stats conns`.
    public let directory = ConnectionDirectory()
    /// `stats detail`: per-prefix counters.
    public let prefixStatistics: PrefixStatistics
    /// Current verbosity (`-v`, the `verbosity` command, a reload).
    public let verbosity: Verbosity
    /// Open client connections.
    public let currentConnections = Atomic<Int>(0)
    /// Connections ever accepted.
    public let totalConnections = Atomic<UInt64>(0)
    /// Connections refused at the limit.
    public let rejectedConnections = Atomic<UInt64>(0)
    /// Default wait of `lock`/`rlock` in milliseconds (reloadable).
    public let mutexLockWait: Atomic<Int>
    /// Pending delayed `flush_all`, as a clock reading (0: none).
    public let pendingFlush = Atomic<UInt32>(0)
    /// Per-worker counters, one per worker.
    public let workerStatistics: [WorkerStatistics]
    /// The bound on buffered input beyond each connection's base buffer (`input_buffer_limit`).
    public let inputBudget: InputBufferBudget
    /// Unix time the server started.
    public let startedAt: Int64
    /// `-Y`: the credentials connections must present first; nil without an auth file.
    public let authenticator: Authenticator?
    /// `-Z`: the OpenSSL context TLS connections are made from; nil without TLS.
    public let tlsContext: TLSContext?
    /// Plaintext bytes per TLS record written (`ssl_wbuf_size`).
    let tlsRecordBytes: Int
    /// "binary protocol is not supported": at most one line per 10 s, with a count of the rest,
    /// since every such connection would otherwise log one (issue 8, item 8).
    let binaryProtocolLog = LogRateLimiter(intervalMilliseconds: 10_000)

    /// Creates the shared state.
    public init(configuration: ServerConfiguration, logger: Logger, verbosity: Verbosity? = nil, clock: ServerClock = ServerClock()) throws {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        var limits = TextParser.Limits()
        limits.itemSizeLimit = configuration.itemSizeLimit
        limits.flushEnabled = configuration.flushEnabled
        self.parserLimits = limits
        self.reportsCAS = configuration.casEnabled
        let itemLimits = limits
        let storeConfiguration = StoreConfiguration(
            memoryLimit: configuration.memoryLimitBytes,
            evictionEnabled: configuration.evictionEnabled,
            shardCount: configuration.shardCount,
            casEnabled: configuration.casEnabled,
            itemFits: { keyCount, flags, valueCount in
                itemLimits.itemFits(keyLength: keyCount, flags: flags, valueLength: valueCount)
            })
        self.regions = try RegionSet(
            settings: configuration.regions, totalMemory: configuration.memoryLimitBytes,
            base: storeConfiguration, clock: clock)
        // Tokens must not go backwards across a restart even if the wall clock does: with a state
        // directory they start above the mark kept there (and refuse to start if it cannot be
        // written); without one, the wall clock is all there is.
        let stateDirectory = configuration.stateDirectory ?? Self.systemdStateDirectory()
        let tokens = try FencingTokens(stateDirectory: stateDirectory) { [logger] error in
            logger.error("fencing tokens: \(error); tokens stay above the wall-clock floor only")
        }
        if stateDirectory == nil {
            logger.warning("no state directory (--state-dir): fencing tokens start from the wall clock and could go backwards after a restart with the clock behind")
        }
        self.lockBudget = LockBudget(limit: configuration.maxLocks)
        let shared = LockTableContext<HeldItem>(tokens: tokens, budget: lockBudget, statistics: coordinationStatistics, sink: wakeRouter)
        self.leases = LeaseTable(context: shared)
        self.mutexes = MutexTable(context: shared)
        self.verbosity = verbosity ?? Verbosity(configuration.verbosity)
        self.admin = AdminSettings(memoryBytes: configuration.memoryLimitBytes)
        admin.crawlerEnabled.store(configuration.lruCrawlerEnabled, ordering: .relaxed)
        self.prefixStatistics = PrefixStatistics(
            delimiter: configuration.statPrefixDelimiter, enabled: configuration.detailEnabled)
        self.mutexLockWait = Atomic(configuration.lockWaitMilliseconds)
        self.workerStatistics = (0..<max(1, configuration.threads)).map { _ in WorkerStatistics() }
        self.inputBudget = InputBufferBudget(limit: configuration.effectiveInputBufferLimit)
        self.startedAt = clock.epoch + 2
        self.authenticator = try configuration.authFile.map { path throws(AuthFileError) in try Authenticator(path: path) }
        self.tlsRecordBytes = configuration.sslWriteBufferKilobytes * 1024
        self.tlsContext = configuration.tlsEnabled ? try TLSContext(options: Self.tlsOptions(configuration), now: Int64(clock.now)) : nil
    }

    /// The `-o ssl_*` settings as the TLS layer takes them.
    static func tlsOptions(_ configuration: ServerConfiguration) -> TLSOptions {
        var options = TLSOptions()
        options.chainCertificate = configuration.sslChainCertificate
        options.privateKey = configuration.sslPrivateKey
        options.keyFormat = Int32(configuration.sslKeyFormat)
        options.verifyMode = configuration.sslVerifyMode
        options.ciphers = configuration.sslCiphers
        options.caCertificate = configuration.sslCACertificate
        options.sessionCache = configuration.sslSessionCache
        options.kernelTLS = configuration.sslKernelTLS
        options.minimumVersion = configuration.sslMinimumVersion
        return options
    }

    /// systemd's `StateDirectory=` (the first path of `$STATE_DIRECTORY`), when no directory was
    /// given.
    static func systemdStateDirectory() -> String? {
        guard let value = getenv("STATE_DIRECTORY") else { return nil }
        return String(cString: value).split(separator: ":").first.map(String.init)
    }

    /// A counter summed over all workers.
    public func total(_ counter: WorkerStatistics.Counter) -> UInt64 {
        workerStatistics.reduce(0) { $0 &+ $1.value(counter) }
    }
}

extension ServerState {
    /// Drops every item and stale copy of `region` (all regions if nil) and ends their leases:
    /// `invalidate <region> hard`, and `flush_all` for every region.
    func invalidateHard(_ region: Region?) {
        for target in regions.all where region == nil || target === region {
            target.store.removeAll()
        }
        leases.endLeases { key in
            region == nil || key.bytes.withUnsafeBytes { regions.region(for: $0) } === region
        }
    }

    /// Gives back a grant whose waiter no longer waits for it (it ran out, closed, or the server
    /// is stopping): otherwise it would block everyone until its lease ends.
    func giveBack(_ wake: Wake<HeldItem>) {
        guard case .granted(let token) = wake.outcome else { return }
        switch wake.kind {
        case .generation: _ = leases.unlockgen(wake.key, token: token)
        case .mutex: _ = mutexes.unlock(wake.key, token: token)
        }
    }

    /// Store counters summed over every region.
    func storeStatistics() -> StoreStatistics {
        var total = StoreStatistics()
        for region in regions.all { total.add(region.store.statistics()) }
        return total
    }

    /// `stats reset`: zeroes the request counters, the stampede counters included.
    func resetStatistics() {
        for statistics in workerStatistics { statistics.reset() }
        for region in regions.all { region.store.resetStatistics() }
        coordinationStatistics.reset()
        admin.crawlerStarts.store(0, ordering: .relaxed)
        prefixStatistics.clear()
        totalConnections.store(0, ordering: .relaxed)
        rejectedConnections.store(0, ordering: .relaxed)
    }
}
