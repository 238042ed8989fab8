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
    var port: Int?

    @Option(name: [.customShort("l", allowingJoined: true), .customLong("listen")], help: "Interface(s) to listen on, comma separated (default 127.0.0.1).")
    var listen: String?

    @Option(name: [.customShort("s", allowingJoined: true), .customLong("unix-socket")], help: "Unix socket path to listen on (disables TCP).")
    var unixSocket: String?

    @Option(name: [.customShort("a", allowingJoined: true), .customLong("unix-mask")], help: "Access mask for the Unix socket, in octal (default 700).")
    var unixMask: String?

    @Option(name: [.customShort("U", allowingJoined: true), .customLong("udp-port")], help: "UDP port; only 0 (off) is supported.")
    var udpPort: Int = 0

    @Option(name: [.customShort("t", allowingJoined: true), .customLong("threads")], help: "Number of worker threads (default 4).")
    var threads: Int?

    @Option(name: [.customShort("c", allowingJoined: true), .customLong("conn-limit")], help: "Maximum simultaneous connections (default 1024).")
    var connLimit: Int?

    @Option(name: [.customShort("m", allowingJoined: true), .customLong("memory-limit")], help: "Item memory in megabytes (default 64).")
    var memoryLimit: String?

    @Option(name: [.customShort("I", allowingJoined: true), .customLong("max-item-size")], help: "Item size limit, e.g. 1m or 512k (default 1m).")
    var maxItemSize: String?

    @Flag(name: [.customShort("M"), .customLong("disable-evictions")], help: "Return an error on memory exhaustion instead of evicting.")
    var disableEvictions = false

    @Option(name: [.customShort("R", allowingJoined: true), .customLong("max-reqs-per-event")], help: "Requests per event before yielding (default 20).")
    var maxReqsPerEvent: Int?

    @Option(name: [.customShort("b", allowingJoined: true), .customLong("listen-backlog")], help: "Listen backlog (default 1024).")
    var listenBacklog: Int32?

    @Option(name: [.customShort("P", allowingJoined: true), .customLong("pidfile")], help: "Write the process id to this file.")
    var pidfile: String?

    @Option(name: [.customShort("u", allowingJoined: true), .customLong("user")], help: "When started as root, switch to this user after binding.")
    var user: String?

    @Flag(name: [.customShort("v")], help: "Verbose (-v) or very verbose (-vv).")
    var verbose: Int

    @Option(name: [.customShort("o", allowingJoined: true), .customLong("extended")], help: "memcached extended options: not supported; any is refused.")
    var extended: [String] = []

    @Option(name: [.customShort("B", allowingJoined: true), .customLong("protocol")], help: "Protocol: ascii or auto (binary is not supported).")
    var bindingProtocol: String = "ascii"

    @Flag(name: [.customShort("d"), .customLong("daemon")], help: "Not supported: run dogpiled in the foreground (e.g. under systemd).")
    var daemonize = false

    @Option(name: .customLong("region"), help: "Declare a region: NAME:memory=64m,exptime=0,stale_ttl=60,lock_wait_ms=5000 (repeatable).")
    var region: [String] = []

    @Option(name: .customLong("max-locks"), help: "Bound on generation leases plus named mutexes (default 100000).")
    var maxLocks: Int?

    @Option(name: .customLong("lock-wait-ms"), help: "Default wait of lock/rlock without wait_ms, in milliseconds (default 5000).")
    var lockWaitMs: Int?

    @Option(name: .customLong("state-dir"), help: "Directory for state kept across restarts (fencing-token high-water mark).")
    var stateDir: String?

    @Option(name: .customLong("config"), help: "Read settings from this TOML file (flags override it).")
    var config: String?

    @Option(name: .customLong("check-config"), help: "Validate this TOML file and exit (non-zero on any error).")
    var checkConfig: String?

    @Flag(name: [.customShort("V")], help: "Print the version and exit.")
    var printVersion = false

    mutating func validate() throws {
        guard udpPort == 0 else { throw ValidationError("UDP is not supported; use -U 0") }
        guard !daemonize else { throw ValidationError("-d/--daemon is not supported: run dogpiled in the foreground, e.g. under systemd (see systemd/dogpiled.service)") }
        guard extended.isEmpty else { throw ValidationError("-o/--extended options are not supported: \(extended.joined(separator: ","))") }
        guard ["ascii", "auto"].contains(bindingProtocol) else { throw ValidationError("-B \(bindingProtocol): only the ascii protocol is supported") }
    }

    func run() throws {
        if printVersion {
            print("dogpiled \(ServerState.version)")
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
        let command = self
        try Daemon(configuration: configuration, configPath: config, user: user) {
            try command.effectiveConfiguration()
        }.run()
    }

    /// Defaults, then the config file, then the flags given.
    func effectiveConfiguration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let config { try ConfigurationFile.load(path: config).apply(to: &configuration) }
        if let port { configuration.port = port }
        if let listen { configuration.listenAddresses = listen.split(separator: ",").map { String($0).trimmingSpaces } }
        if let unixSocket { configuration.unixSocketPath = unixSocket }
        if let unixMask {
            guard let mask = UInt32(unixMask, radix: 8) else { throw ValidationError("-a must be an octal mask, e.g. 700") }
            configuration.unixSocketMode = mask
        }
        if let threads { configuration.threads = threads }
        if let connLimit { configuration.maxConnections = connLimit }
        if let memoryLimit { configuration.memoryLimitMegabytes = try SizeArgument.megabytes(memoryLimit, flag: "-m") }
        if let maxItemSize { configuration.itemSizeLimit = try SizeArgument.bytes(maxItemSize, flag: "-I") }
        if disableEvictions { configuration.evictionEnabled = false }
        if let maxReqsPerEvent { configuration.requestsPerEvent = maxReqsPerEvent }
        if let listenBacklog { configuration.backlog = listenBacklog }
        if verbose > 0 { configuration.verbosity = verbose }
        if !region.isEmpty { configuration.regions = try region.map(RegionArgument.parse) }
        if let maxLocks { configuration.maxLocks = maxLocks }
        if let lockWaitMs { configuration.lockWaitMilliseconds = lockWaitMs }
        if let pidfile { configuration.pidFile = pidfile }
        if let stateDir { configuration.stateDirectory = stateDir }
        try ConfigurationCheck.validate(configuration)
        return configuration
    }
}

func printError(_ message: String) {
    let line = "dogpiled: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
