import ArgumentParser
import CacheStore
import DogpiledConfiguration
import DogpiledServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The command line, with memcached's flag names (short and long forms).
///
/// Every setting flag is optional so that precedence can be exact: built-in defaults, then the
/// config file (`--config`), then the flags actually given.
struct DogpiledCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dogpiled",
        abstract: "A memcached-compatible cache daemon with server-side dogpile locks.",
        discussion: """
            Speaks the memcached text protocol. Flags follow memcached's; dogpiled listens on \
            127.0.0.1 unless -l says otherwise (memcached's default is every interface). \
            Precedence: built-in defaults < --config file < flags.
            """,
        version: ServerState.version)

    @Option(name: [.customShort("p", allowingJoined: true), .customLong("port")], help: "TCP port to listen on (default 11211).")
    var port: String?

    @Option(name: [.customShort("l", allowingJoined: true), .customLong("listen")], help: "Interface(s) to listen on, comma separated or -l repeated (default 127.0.0.1).")
    var listen: [String] = []

    @Option(name: [.customShort("s", allowingJoined: true), .customLong("unix-socket")], help: "Unix socket path to listen on (disables TCP).")
    var unixSocket: String?

    @Option(name: [.customShort("a", allowingJoined: true), .customLong("unix-mask")], help: "Access mask for the Unix socket, in octal (default 700).")
    var unixMask: String?

    @Option(name: [.customShort("U", allowingJoined: true), .customLong("udp-port")], help: "UDP port; only 0 (off) is supported.")
    var udpPort: Int = 0

    @Option(name: [.customShort("t", allowingJoined: true), .customLong("threads")], help: "Number of worker threads (default 4).")
    var threads: String?

    @Option(name: [.customShort("c", allowingJoined: true), .customLong("conn-limit")], help: "Maximum simultaneous connections (default 1024).")
    var connLimit: String?

    @Option(name: [.customShort("m", allowingJoined: true), .customLong("memory-limit")], help: "Item memory in megabytes (default 64).")
    var memoryLimit: String?

    @Option(name: [.customShort("I", allowingJoined: true), .customLong("max-item-size")], help: "Item size limit, e.g. 1m or 512k (default 1m).")
    var maxItemSize: String?

    @Flag(name: [.customShort("M"), .customLong("disable-evictions")], help: "Return an error on memory exhaustion instead of evicting.")
    var disableEvictions = false

    @Option(name: [.customShort("R", allowingJoined: true), .customLong("max-reqs-per-event")], help: "Requests per event before yielding (default 20).")
    var maxReqsPerEvent: String?

    @Option(name: [.customShort("b", allowingJoined: true), .customLong("listen-backlog")], help: "Listen backlog (default 1024).")
    var listenBacklog: String?

    @Option(name: [.customShort("P", allowingJoined: true), .customLong("pidfile")], help: "Write the process id to this file.")
    var pidfile: String?

    @Option(name: [.customShort("u", allowingJoined: true), .customLong("user")], help: "When started as root, switch to this user after binding.")
    var user: String?

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Verbose (-v) or very verbose (-vv; -vvv is -vv).")
    var verbose: Int

    @Option(name: [.customShort("o", allowingJoined: true), .customLong("extended")], help: "memcached extended options, name[=value][,...]: idle_timeout and read_buf_mem_limit work, slab/LRU/hash tuning is accepted without effect, ext_* and proxy_* are refused (docs/compatibility.md#options).")
    var extended: [String] = []

    @Option(name: [.customShort("B", allowingJoined: true), .customLong("protocol")], help: "Protocol: ascii or auto (binary is not supported).")
    var bindingProtocol: String = "ascii"

    @Flag(name: [.customShort("A"), .customLong("enable-shutdown")], help: "Enable the shutdown command.")
    var enableShutdown = false

    @Flag(name: [.customShort("X"), .customLong("disable-dumping")], help: "Disable stats cachedump and lru_crawler metadump.")
    var disableDumping = false

    @Flag(name: [.customShort("F"), .customLong("disable-flush-all")], help: "Disable the flush_all command.")
    var disableFlushAll = false

    @Flag(name: [.customShort("W"), .customLong("disable-watch")], help: "Disable watch commands (dogpiled has no watch stream: refused either way).")
    var disableWatch = false

    @Option(name: [.customShort("D", allowingJoined: true)], help: "Delimiter between key prefixes and IDs for stats detail; also turns stats detail on.")
    var prefixDelimiter: String?

    @Option(name: [.customShort("Y", allowingJoined: true), .customLong("auth-file")], help: "ASCII authentication: a file of user:password lines (re-read on SIGHUP).")
    var authFile: String?

    @Flag(name: [.customShort("Z"), .customLong("enable-ssl")], help: "TLS on every TCP listener but -l notls:<host>:<port> ones (certificates: -o ssl_chain_cert=...,ssl_key=...).")
    var enableSSL = false

    @Option(name: .customLong("tls-handshake-timeout"), help: "Seconds a TLS client has to finish its handshake (default 10).")
    var tlsHandshakeTimeout: String?

    @Flag(name: [.customShort("d"), .customLong("daemon")], help: "Run in the background (the command returns once dogpiled serves, or fails with its status).")
    var daemonize = false

    @Flag(name: [.customShort("C"), .customLong("disable-cas")], help: "Disable CAS: replies carry CAS 0 and compare-and-swap never matches.")
    var disableCAS = false

    @Flag(name: [.customShort("k"), .customLong("lock-memory")], help: "Lock all memory (mlockall); start-up fails if it cannot.")
    var lockMemory = false

    @Flag(name: [.customShort("r"), .customLong("enable-coredumps")], help: "Raise the core file limit as far as allowed.")
    var enableCoredumps = false

    @Flag(name: [.customShort("L"), .customLong("enable-largepages")], help: "Accepted without effect (no preallocated item arena).")
    var enableLargePages = false

    @Option(name: [.customShort("f", allowingJoined: true), .customLong("slab-growth-factor")], help: "Accepted without effect (no slab classes); must be above 1.")
    var slabGrowthFactor: String?

    @Option(name: [.customShort("n", allowingJoined: true), .customLong("slab-min-size")], help: "Accepted without effect (no slab classes); must be above 0.")
    var slabMinSize: String?

    @Option(name: [.customShort("N", allowingJoined: true), .customLong("napi-ids")], help: "Accepted without effect (no NAPI-ID steering); 1 to -t.")
    var napiIDs: String?

    @Option(name: [.customShort("e", allowingJoined: true), .customLong("memory-file")], help: "Refused: warm restart from a memory file is not supported.")
    var memoryFile: String?

    @Flag(name: [.customShort("S"), .customLong("enable-sasl")], help: "Refused: SASL is not supported.")
    var enableSASL = false

    @Flag(name: [.customShort("i"), .customLong("license")], help: "Print license information and exit.")
    var printLicense = false

    @Option(name: .customLong("region"), help: "Declare a region: NAME:memory=64m,exptime=0,stale_ttl=60,lock_wait_ms=5000 (repeatable).")
    var region: [String] = []

    @Option(name: .customLong("max-locks"), help: "Bound on generation leases plus named mutexes (default 100000).")
    var maxLocks: String?

    @Option(name: .customLong("lock-wait-ms"), help: "Default wait of lock/rlock without wait_ms, in milliseconds (default 5000).")
    var lockWaitMs: String?

    @Option(name: .customLong("idle-timeout"), help: "Close connections idle this many seconds; 0 never (default 0; as -o idle_timeout).")
    var idleTimeout: String?

    @Option(name: .customLong("tcp-keepalive"), help: "TCP keepalive on accepted connections: on or off (default on).")
    var tcpKeepalive: String?

    @Option(name: .customLong("tcp-keepalive-idle"), help: "Seconds of silence before the first keepalive probe (default 60).")
    var tcpKeepaliveIdle: String?

    @Option(name: .customLong("tcp-keepalive-interval"), help: "Seconds between keepalive probes (default 10).")
    var tcpKeepaliveInterval: String?

    @Option(name: .customLong("tcp-keepalive-count"), help: "Unanswered keepalive probes before dropping the connection (default 6).")
    var tcpKeepaliveCount: String?

    @Option(name: .customLong("state-dir"), help: "Directory for state kept across restarts (fencing-token high-water mark).")
    var stateDir: String?

    @Option(name: .customLong("input-buffer-limit"), help: "Bound on input buffered by all connections together (a bare number is megabytes; default: a quarter of -m, at least four of the largest requests).")
    var inputBufferLimit: String?

    @Option(name: .customLong("config"), help: "Read settings from this TOML file (flags override it).")
    var config: String?

    @Option(name: .customLong("check-config"), help: "Validate this TOML file and exit (non-zero on any error).")
    var checkConfig: String?

    @Flag(name: [.customShort("V"), .customLong("version")], help: "Print the version and exit.")
    var printVersion = false

    mutating func validate() throws {
        guard udpPort == 0 else { throw ValidationError("-U \(udpPort): UDP is not supported (memcached 1.6 has it off by default too); use -U 0") }
        guard ["ascii", "auto"].contains(bindingProtocol) else {
            throw ValidationError("-B \(bindingProtocol): only the ascii (text and meta) protocol is supported; memcached's binary protocol is deprecated and not implemented")
        }
        if authFile != nil && bindingProtocol != "ascii" {
            // memcached's words and status (EX_USAGE) for -Y with a protocol other than ascii.
            printError("ERROR: You cannot allow the BINARY protocol while using ascii authentication tokens.")
            throw ExitCode(64)
        }
        if memoryFile != nil {
            throw ValidationError("-e/--memory-file is not supported: dogpiled cannot restart warm from a memory file (its items live in the process heap, not in one mappable arena)")
        }
        if enableSASL {
            throw ValidationError("-S/--enable-sasl is not supported: SASL needs memcached's binary protocol, which dogpiled does not implement")
        }
    }

    func run() throws {
        if printVersion {
            print("dogpiled \(ServerState.version)")
            return
        }
        if printLicense {
            print(Self.licenseText)
            return
        }
        if let checkConfig {
            do {
                var configuration = ServerConfiguration()
                try ConfigurationFile.load(path: checkConfig).apply(to: &configuration)
                try ConfigurationCheck.validate(configuration)
                print("\(checkConfig): OK")
                return
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
        let configuration: ServerConfiguration
        do {
            configuration = try effectiveConfiguration()
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let process: ProcessOptions
        do {
            process = try processOptions()
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        var command = self
        // -d moves to / once serving: a reload must still find a relative --config.
        if daemonize, let config, !config.hasPrefix("/") { command.config = Self.absolute(config) }
        var running = configuration
        if daemonize, let path = running.pidFile, !path.hasPrefix("/") {
            running.pidFile = Self.absolute(path)
            command.pidfile = running.pidFile
        }
        try Daemon(configuration: running, configPath: command.config, user: user, process: process) {
            try command.effectiveConfiguration()
        }.run()
    }

    /// Every `-l` given, joined; an address given again is dropped, as memcached skips an `-l`
    /// its list already holds.
    var listenArgument: String? {
        var addresses: [String] = []
        for address in listen.flatMap({ $0.split(separator: ",").map(String.init) }) where !addresses.contains(address) {
            addresses.append(address)
        }
        return addresses.isEmpty ? nil : addresses.joined(separator: ",")
    }

    /// Defaults, then the config file, then the flags given, each checked by its row of the
    /// settings table.
    func effectiveConfiguration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let config { try ConfigurationFile.load(path: config).apply(to: &configuration) }
        let given: [(String, String?)] = [
            ("-p", port), ("-l", listenArgument), ("-s", unixSocket), ("-a", unixMask), ("-t", threads),
            ("-c", connLimit), ("-m", memoryLimit), ("-I", maxItemSize), ("-R", maxReqsPerEvent),
            ("-b", listenBacklog), ("--max-locks", maxLocks), ("--lock-wait-ms", lockWaitMs), ("-P", pidfile),
            ("--tcp-keepalive", tcpKeepalive), ("--tcp-keepalive-idle", tcpKeepaliveIdle),
            ("--tcp-keepalive-interval", tcpKeepaliveInterval), ("--tcp-keepalive-count", tcpKeepaliveCount),
            ("--state-dir", stateDir), ("--input-buffer-limit", inputBufferLimit), ("-D", prefixDelimiter), ("-Y", authFile),
            ("--tls-handshake-timeout", tlsHandshakeTimeout),
        ]
        for case let (spelling, text?) in given {
            guard let setting = Settings.flag(spelling) else { continue }
            try setting.apply(flag: text, as: spelling, to: &configuration)
        }
        if let idleTimeout { try ExtendedOptions.apply(["idle_timeout=\(idleTimeout)"], to: &configuration) }
        try ExtendedOptions.apply(extended, to: &configuration)
        if disableEvictions { configuration.evictionEnabled = false }
        if disableCAS { configuration.casEnabled = false }
        if enableShutdown { configuration.shutdownEnabled = true }
        if disableDumping { configuration.dumpEnabled = false }
        if disableFlushAll { configuration.flushEnabled = false }
        if disableWatch { configuration.watchEnabled = false }
        // memcached's -D turns the per-prefix statistics on as well.
        if prefixDelimiter != nil { configuration.detailEnabled = true }
        if enableSSL { configuration.tlsEnabled = true }
        if verbose > 0 { configuration.verbosity = min(verbose, 2) }
        if !region.isEmpty { configuration.regions = try region.map(RegionSettingsTable.parse(argument:)) }
        try ConfigurationCheck.validate(configuration)
        return configuration
    }
}

func printError(_ message: String) {
    let line = "dogpiled: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
