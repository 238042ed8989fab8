import CacheStore
import Coordination
import EventLoop
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The daemon: listeners and housekeeping on the calling thread, requests on worker threads.
///
/// memcached's model: one acceptor hands each new connection to a worker, round robin, and the
/// connection lives on that worker for good. The acceptor's loop also advances the clock every
/// second, runs the expiry crawler, fires a delayed `flush_all`, and turns SIGTERM/SIGINT into a
/// clean stop.
public final class Server: EventHandler {
    /// The shared state (store, counters).
    public let state: ServerState
    private let base = EventBase()
    private var workers: [Worker] = []
    private var listeners: [Listener] = []
    private var nextWorker = 0
    private var tickEvent: Event?
    private var signalEvents: [Event] = []
    /// TCP ports actually bound (useful with port 0).
    public private(set) var boundPorts: [Int] = []

    private enum Tag: Int { case tick = 1, terminate = 2, reload = 3 }

    /// Called on the acceptor's thread once the workers run and the sockets accept (systemd's
    /// READY=1 goes here).
    public var onReady: (() -> Void)?
    /// Called on SIGHUP, on the acceptor's thread.
    public var onReload: (() -> Void)?
    /// Called when a stop begins (systemd's STOPPING=1).
    public var onStopping: (() -> Void)?
    /// How long a stop waits for queued replies to be written, in milliseconds.
    public var drainMilliseconds = 2000

    /// Creates a server; nothing is bound until ``bind()``.
    public init(configuration: ServerConfiguration, logger: Logger, verbosity: Verbosity? = nil) throws {
        state = try ServerState(configuration: configuration, logger: logger, verbosity: verbosity)
    }

    /// Opens the listening sockets. Throws if an address cannot be bound.
    public func bind() throws {
        let configuration = state.configuration
        // Each listening socket, and whether its connections speak TLS (-Z, unless notls:).
        var descriptors: [(Int32, Bool)] = []
        if let path = configuration.unixSocketPath {
            descriptors.append((try ListeningSocket.unix(path: path, mode: mode_t(configuration.unixSocketMode), backlog: configuration.backlog), false))
        } else {
            for entry in configuration.listenAddresses {
                guard let address = ListenAddress(entry) else {
                    throw SocketError("bad listen address \(entry)", code: EINVAL)
                }
                let tls = state.tlsContext != nil && !address.noTLS
                descriptors += try ListeningSocket.tcp(host: address.host, port: address.port ?? configuration.port, backlog: configuration.backlog).map { ($0, tls) }
            }
            boundPorts = descriptors.map { ListeningSocket.boundPort($0.0) }
        }
        for (descriptor, tls) in descriptors {
            state.directory.add(descriptor, listening: true, now: state.clock.now)
            listeners.append(Listener(base: base, descriptor: descriptor) { [unowned self] fd in self.accepted(fd, tls: tls) })
        }
    }

    /// Starts the workers and runs the acceptor loop until SIGTERM/SIGINT or ``stop()``.
    public func run() {
        signal(SIGPIPE, SIG_IGN)
        for index in 0..<state.workerStatistics.count {
            let worker = Worker(index: index, state: state)
            workers.append(worker)
        }
        state.wakeRouter.install(workers)
        for worker in workers { worker.start() }
        tickEvent = Event(base: base, descriptor: -1, what: Event.persist, handler: self, tag: Tag.tick.rawValue)
        tickEvent?.add(timeoutMilliseconds: 1000)
        for (signalNumber, tag) in [(SIGTERM, Tag.terminate), (SIGINT, .terminate), (SIGHUP, .reload)] {
            let event = Event(base: base, descriptor: signalNumber, what: Event.signal | Event.persist, handler: self, tag: tag.rawValue)
            event.add()
            signalEvents.append(event)
        }
        onReady?()
        base.run()
        shutdown()
    }

    /// Ends ``run()``; call on the acceptor's thread (e.g. from a signal event).
    public func stop() {
        base.stop()
    }

    public func handle(_ event: Event, what: Int16) {
        switch Tag(rawValue: event.tag) {
        case .tick: housekeeping()
        case .terminate:
            state.logger.notice("shutting down", metadata: ["reason": "signal"])
            stop()
        case .reload:
            onReload?()
        case nil: break
        }
    }

    private func accepted(_ descriptor: Int32, tls: Bool) {
        let configuration = state.configuration
        if state.currentConnections.load(ordering: .relaxed) >= configuration.maxConnections {
            // memcached's maxconns_fast: tell the client why, then hang up.
            let message: StaticString = "ERROR Too many open connections\r\n"
            _ = write(descriptor, message.utf8Start, message.utf8CodeUnitCount)
            close(descriptor)
            let rejected = state.rejectedConnections.wrappingAdd(1, ordering: .relaxed).newValue
            if rejected == 1 || rejected % 1000 == 0 {
                state.logger.warning("connection limit reached", metadata: ["max_connections": "\(configuration.maxConnections)", "rejected_total": "\(rejected)"])
            }
            return
        }
        state.currentConnections.add(1, ordering: .relaxed)
        state.totalConnections.add(1, ordering: .relaxed)
        let worker = workers[nextWorker]
        nextWorker = (nextWorker + 1) % workers.count
        worker.post(.adopt(descriptor: descriptor, tls: tls))
    }

    private var ticks = 0
    private var evictionsLogged: UInt64 = 0

    private func housekeeping() {
        state.clock.tick()
        ticks += 1
        if ticks % 60 == 0 { summariseEvictions() }
        let now = state.clock.now
        let pending = state.pendingFlush.load(ordering: .relaxed)
        if pending != 0 && pending <= now {
            state.pendingFlush.store(0, ordering: .relaxed)
            state.invalidateHard(nil)
        }
        for region in state.regions.all { region.store.crawlExpired() }
        // Leases and holds nobody waits on end here; O(what is due), from the tables' timers.
        state.leases.fireTimers()
        state.mutexes.fireTimers()
    }

    /// Eviction pressure, summarised once a minute rather than per item.
    private func summariseEvictions() {
        let evictions = state.storeStatistics().evictions
        let recent = evictions &- evictionsLogged
        evictionsLogged = evictions
        if recent > 0 {
            state.logger.warning("memory full: evicted items in the last minute", metadata: [
                "evicted": "\(recent)", "evictions_total": "\(evictions)",
                "limit_maxbytes": "\(state.configuration.memoryLimitBytes)",
            ])
        }
    }

    private func shutdown() {
        onStopping?()
        for listener in listeners { listener.close() }
        listeners.removeAll()
        if let path = state.configuration.unixSocketPath { unlink(path) }
        // Parked requests learn that the server is going away before their connections close.
        state.leases.shutdown()
        state.mutexes.shutdown()
        for worker in workers { worker.post(.stop(drainMilliseconds: drainMilliseconds)) }
        for worker in workers { worker.join() }
        tickEvent?.free()
        for event in signalEvents { event.free() }
        state.logger.notice("stopped", metadata: ["uptime_s": "\(state.clock.now - 2)"])
    }
}
