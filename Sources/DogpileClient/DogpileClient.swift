import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A client for a fleet of dogpiled daemons (and plain memcached, for the classic commands).
///
/// Keys are placed on the daemons by libmemcached's weighted ketama ring (``HashRing``), so C,
/// PHP and Python clients using ketama agree on where a key lives; a key's value and its
/// generation lease always live on the same daemon. Each daemon has a bounded
/// ``ConnectionPool``. Requests that may wait on the server (`lockgen`, `lock`, `rlock`) keep
/// their connection to themselves until answered, with a read timeout of their `wait_ms` plus
/// ``Configuration/waitMargin``.
///
/// ```swift
/// let client = try DogpileClient(servers: "127.0.0.1:11211:1,127.0.0.1:11212:2")
/// defer { client.shutdown() }
/// try await client.set("greeting", Array("hello".utf8))
/// let item = try await client.get("greeting")   // item?.string == "hello"
/// ```
///
/// Use ``region(_:expiration:)`` for the dogpile.cache-style API shared with Python.
public final class DogpileClient: Sendable {
    /// How the client connects, waits and treats dead daemons.
    public struct Configuration: Sendable {
        /// The daemons and their weights, in ring order.
        public var servers: [ServerAddress]
        /// Connections open at most per daemon (a connection is used by one caller at a time).
        public var maximumConnectionsPerDaemon = 32
        /// How long connecting may take.
        public var connectTimeout: Duration = .seconds(2)
        /// The read timeout of a request that does not wait on the server.
        public var requestTimeout: Duration = .seconds(5)
        /// Added to a waiting request's `wait_ms` to make its read timeout.
        public var waitMargin: Duration = .seconds(2)
        /// How long a daemon that failed stays marked dead before it is tried again.
        public var retryDeadAfter: Duration = .seconds(30)
        /// Whether a dead daemon's keys move to the other daemons (the ring is rebuilt without
        /// it). Off by default: a moved key can have two lease holders during a network
        /// partition (one on each side), and moves back when the daemon returns. With it off, a
        /// dead daemon's reads miss, its writes throw ``DogpileClientError/Code/daemonDead``, and
        /// ``Region/getOrCreate(_:as:creator:)`` runs the creator without caching.
        public var rehashDead = false
        /// The event loops the connections run on.
        public var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
        /// Whether a region's first use checks (`stats regions`) that every daemon declares it.
        public var checkRegionsOnFirstUse = true
        /// TLS for daemons started with `-Z` (nil: plain TCP). Made into one context when the
        /// client is made, e.g. `.makeClientConfiguration()` with `trustRoots` set to the
        /// daemons' CA. Unix socket daemons get it too.
        public var tls: TLSConfiguration?
        /// The name the daemons' certificates must carry, when it is not the host in their
        /// address (always needed for IP addresses and Unix sockets when the certificate is
        /// verified by name).
        public var tlsServerHostname: String?
        /// Credentials for daemons started with `-Y`, sent first on every connection.
        public var credentials: Credentials?
        /// Where the client logs (dead daemons, values not cached, lost locks).
        public var logger = Logger(label: "DogpileClient")

        /// A configuration for `servers`, with defaults for everything else.
        public init(servers: [ServerAddress]) {
            self.servers = servers
        }
    }

    /// The configuration the client was made with.
    public let configuration: Configuration
    /// The ring over every configured daemon.
    public let ring: HashRing
    let daemons: [Daemon]
    /// Creators running in the background for callers already answered.
    let background = BackgroundRegenerations()
    var logger: Logger { configuration.logger }
    /// With ``Configuration/rehashDead``: the ring over the daemons alive, by which are dead.
    /// Each region's declaration check (`stats regions`), running or done.
    let regionChecks = Mutex<[String: Task<Void, any Error>]>([:])
    private let aliveRing = Mutex<(dead: [Bool], ring: HashRing)?>(nil)

    /// A client for `configuration.servers`. Nothing connects until the first request.
    public init(configuration: Configuration) throws {
        guard !configuration.servers.isEmpty else {
            throw DogpileClientError(.invalidArgument, "no servers")
        }
        self.configuration = configuration
        self.ring = HashRing(servers: configuration.servers)
        let settings = try ConnectionSettings(configuration)
        self.daemons = configuration.servers.map {
            Daemon(address: $0, maximumConnections: configuration.maximumConnectionsPerDaemon,
                   settings: settings, retryAfter: configuration.retryDeadAfter)
        }
    }

    /// A client for a comma-separated server list: `127.0.0.1:11211:1,/run/dogpiled.sock:2`.
    public convenience init(servers: String) throws {
        try self.init(configuration: Configuration(servers: ServerAddress.parseList(servers)))
    }

    /// Waits until every regeneration running in the background (early recompute, stale copies
    /// served while regenerating) has stored its value or given its lease back. Call it before
    /// a process exits: an exit mid-regeneration drops the lease, and another caller in the
    /// fleet regenerates the key again.
    public func waitForBackgroundRegenerations() async {
        await background.waitForAll()
    }

    /// Closes idle connections; requests after this fail with ``DogpileClientError/Code/clientShutdown``.
    public func shutdown() {
        for daemon in daemons { daemon.pool.shutdown() }
    }

    // MARK: - Routing

    /// The daemon that holds `key` (or, with ``Configuration/rehashDead``, the one that holds it
    /// while its own is dead).
    public func server(for key: String) -> ServerAddress {
        daemon(for: key).address
    }

    func daemon(for key: String) -> Daemon {
        let bytes = Array(key.utf8)
        let index = ring.serverIndex(for: bytes)!
        let chosen = daemons[index]
        guard configuration.rehashDead, chosen.isDead else { return chosen }
        let dead = daemons.map(\.isDead)
        guard dead.contains(false) else { return chosen }
        let alive = aliveRing.withLock { cached -> HashRing in
            if let cached, cached.dead == dead { return cached.ring }
            let rebuilt = HashRing(servers: zip(configuration.servers, dead).filter { !$0.1 }.map(\.0))
            cached = (dead, rebuilt)
            return rebuilt
        }
        let address = alive.servers[alive.serverIndex(for: bytes)!]
        return daemons.first { $0.address == address }!
    }

    /// The read timeout of a request that waits up to `wait` on the server.
    func timeout(waiting wait: Duration) -> TimeAmount {
        (wait + configuration.waitMargin).timeAmount
    }

    /// Sends one non-waiting request for `key` to its daemon.
    func send(_ bytes: ByteBuffer, key: String) async throws -> (Reply, Daemon) {
        try KeyMangler.validateKey(key)
        let daemon = daemon(for: key)
        do {
            return (try await daemon.send(bytes, timeout: configuration.requestTimeout.timeAmount), daemon)
        } catch var error as DogpileClientError {
            if error.key == nil { error.key = key }
            throw error
        }
    }

    /// Sends `bytes` to every daemon at once; the replies in server order.
    func sendToAll(_ bytes: ByteBuffer) async throws -> [(Daemon, Reply)] {
        let timeout = configuration.requestTimeout.timeAmount
        return try await withThrowingTaskGroup(of: (Int, Reply).self) { group in
            for (index, daemon) in daemons.enumerated() {
                group.addTask { (index, try await daemon.send(bytes, timeout: timeout)) }
            }
            var replies = [Reply?](repeating: nil, count: daemons.count)
            for try await (index, reply) in group { replies[index] = reply }
            return zip(daemons, replies).map { ($0, $1!) }
        }
    }
}
