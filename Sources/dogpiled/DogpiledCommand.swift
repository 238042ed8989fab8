import ArgumentParser
import DogpiledServer
import CacheStore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The command line, with memcached's flag names (short and long forms).
struct DogpiledCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dogpiled",
        abstract: "A memcached-compatible cache daemon with server-side dogpile locks.",
        discussion: """
            Speaks the memcached text protocol. Flags follow memcached's; dogpiled listens on \
            127.0.0.1 unless -l says otherwise (memcached's default is every interface).
            """,
        version: ServerState.version)

    @Option(name: [.customShort("p", allowingJoined: true), .customLong("port")], help: "TCP port to listen on.")
    var port: Int = 11211

    @Option(name: [.customShort("l", allowingJoined: true), .customLong("listen")], help: "Interface(s) to listen on, comma separated.")
    var listen: String = "127.0.0.1"

    @Option(name: [.customShort("s", allowingJoined: true), .customLong("unix-socket")], help: "Unix socket path to listen on (disables TCP).")
    var unixSocket: String?

    @Option(name: [.customShort("a", allowingJoined: true), .customLong("unix-mask")], help: "Access mask for the Unix socket, in octal.")
    var unixMask: String = "700"

    @Option(name: [.customShort("U", allowingJoined: true), .customLong("udp-port")], help: "UDP port; only 0 (off) is supported.")
    var udpPort: Int = 0

    @Option(name: [.customShort("t", allowingJoined: true), .customLong("threads")], help: "Number of worker threads.")
    var threads: Int = 4

    @Option(name: [.customShort("c", allowingJoined: true), .customLong("conn-limit")], help: "Maximum simultaneous connections.")
    var connLimit: Int = 1024

    @Option(name: [.customShort("m", allowingJoined: true), .customLong("memory-limit")], help: "Item memory in megabytes.")
    var memoryLimit: String = "64"

    @Option(name: [.customShort("I", allowingJoined: true), .customLong("max-item-size")], help: "Item size limit, e.g. 1m or 512k (1k..1024m).")
    var maxItemSize: String = "1m"

    @Flag(name: [.customShort("M"), .customLong("disable-evictions")], help: "Return an error on memory exhaustion instead of evicting.")
    var disableEvictions = false

    @Option(name: [.customShort("R", allowingJoined: true), .customLong("max-reqs-per-event")], help: "Requests per event before yielding.")
    var maxReqsPerEvent: Int = 20

    @Option(name: [.customShort("b", allowingJoined: true), .customLong("listen-backlog")], help: "Listen backlog.")
    var listenBacklog: Int32 = 1024

    @Option(name: [.customShort("P", allowingJoined: true), .customLong("pidfile")], help: "Write the process id to this file.")
    var pidfile: String?

    @Option(name: [.customShort("u", allowingJoined: true), .customLong("user")], help: "Accepted for compatibility: run as this user (root only).")
    var user: String?

    @Flag(name: [.customShort("v")], help: "Verbose (-v) or very verbose (-vv).")
    var verbose: Int

    @Option(name: [.customShort("o", allowingJoined: true), .customLong("extended")], help: "memcached extended options: none are supported; any is refused.")
    var extended: [String] = []

    @Option(name: [.customShort("B", allowingJoined: true), .customLong("protocol")], help: "Protocol: ascii or auto (binary is not supported).")
    var bindingProtocol: String = "ascii"

    @Flag(name: [.customShort("d"), .customLong("daemon")], help: "Not supported: run dogpiled in the foreground (e.g. under systemd).")
    var daemonize = false

    @Option(name: .customLong("region"), help: "Declare a region: NAME:memory=64m,exptime=0,stale_ttl=60,lock_wait_ms=5000 (repeatable).")
    var region: [String] = []

    @Option(name: .customLong("max-locks"), help: "Bound on generation leases plus named mutexes.")
    var maxLocks: Int = 100_000

    @Option(name: .customLong("lock-wait-ms"), help: "Default wait of lock/rlock without wait_ms, in milliseconds.")
    var lockWaitMs: Int = 5000

    @Flag(name: [.customShort("V")], help: "Print the version and exit.")
    var printVersion = false

    mutating func validate() throws {
        guard udpPort == 0 else { throw ValidationError("UDP is not supported; use -U 0") }
        guard !daemonize else { throw ValidationError("-d/--daemon is not supported: run dogpiled in the foreground, e.g. under systemd (see systemd/dogpiled.service)") }
        guard extended.isEmpty else { throw ValidationError("-o/--extended options are not supported: \(extended.joined(separator: ","))") }
        guard ["ascii", "auto"].contains(bindingProtocol) else { throw ValidationError("-B \(bindingProtocol): only the ascii protocol is supported") }
        guard (1...1024).contains(threads) else { throw ValidationError("-t must be between 1 and 1024") }
        guard connLimit >= 1 else { throw ValidationError("-c must be at least 1") }
        guard maxReqsPerEvent >= 1 else { throw ValidationError("-R must be at least 1") }
        guard (1...65535).contains(port) || port == 0 else { throw ValidationError("-p must be a TCP port (0..65535)") }
        guard UInt32(unixMask, radix: 8) != nil else { throw ValidationError("-a must be an octal mask, e.g. 700") }
        guard maxLocks >= 1 else { throw ValidationError("--max-locks must be at least 1") }
        guard (0...600_000).contains(lockWaitMs) else { throw ValidationError("--lock-wait-ms must be in 0...600000") }
    }

    func run() throws {
        if printVersion {
            print("dogpiled \(ServerState.version)")
            return
        }
        var configuration = ServerConfiguration()
        configuration.port = port
        configuration.listenAddresses = listen.split(separator: ",").map { String($0).trimmingSpaces }
        configuration.unixSocketPath = unixSocket
        configuration.unixSocketMode = UInt32(unixMask, radix: 8) ?? 0o700
        configuration.threads = threads
        configuration.maxConnections = connLimit
        configuration.memoryLimitMegabytes = try SizeArgument.megabytes(memoryLimit, flag: "-m")
        configuration.itemSizeLimit = try SizeArgument.bytes(maxItemSize, flag: "-I")
        configuration.evictionEnabled = !disableEvictions
        configuration.requestsPerEvent = maxReqsPerEvent
        configuration.backlog = listenBacklog
        configuration.verbosity = verbose
        configuration.regions = try region.map(RegionArgument.parse)
        configuration.maxLocks = maxLocks
        configuration.lockWaitMilliseconds = lockWaitMs
        guard configuration.itemSizeLimit >= 1024 else { throw ValidationError("-I: item size limit cannot be less than 1024 bytes") }
        guard configuration.itemSizeLimit <= 1024 * 1024 * 1024 else { throw ValidationError("-I: item size limit cannot be more than 1 GiB") }
        guard configuration.itemSizeLimit <= configuration.memoryLimitBytes / 2 else {
            throw ValidationError("-I: item size limit cannot be more than half of -m (\(configuration.memoryLimitBytes / 2) bytes)")
        }

        let logger = LoggerSetup.makeLogger(verbosity: verbose)
        let server: Server
        do {
            server = try Server(configuration: configuration, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        do {
            try server.bind()
        } catch {
            logger.critical("failed to listen: \(error)")
            throw ExitCode(71)
        }
        if let user { try Privileges.drop(to: user, logger: logger) }
        if let pidfile { try PidFile.write(to: pidfile) }
        logger.notice("dogpiled \(ServerState.version) listening", metadata: [
            "addresses": "\(configuration.unixSocketPath ?? configuration.listenAddresses.joined(separator: ","))",
            "ports": "\(server.boundPorts.map(String.init).joined(separator: ","))",
            "threads": "\(configuration.threads)",
            "memory_mb": "\(configuration.memoryLimitMegabytes)",
            "max_connections": "\(configuration.maxConnections)",
            "item_size_max": "\(configuration.itemSizeLimit)",
        ])
        server.run()
        if let pidfile { unlink(pidfile) }
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
