import CacheStore
import MemcacheProtocol
import Coordination
import EventLoop
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One worker thread: its own event base, the connections it was handed, and a mailbox through
/// which the acceptor (and, later, other workers) reach it.
public final class Worker: EventHandler, @unchecked Sendable {
    /// Messages a worker accepts from other threads.
    public enum Message {
        /// A new client socket to serve.
        case adopt(descriptor: Int32, tls: Bool = false)
        /// Parked requests of this worker's connections are answered.
        case wake([Wake<HeldItem>])
        /// Stop: read nothing more, let queued replies drain for up to `drainMilliseconds`, then
        /// close every connection and end the loop.
        case stop(drainMilliseconds: Int)
    }

    /// Index among the server's workers.
    public let index: Int
    let base: EventBase
    let state: ServerState
    let statistics: WorkerStatistics
    private var mailbox: Mailbox<Message>!
    private var connections: [UInt64: Connection] = [:]
    private var thread: pthread_t?
    private var stopping = false
    private var finished = false
    private var drainTimer: Event?
    /// memcached's idle scan: once a second over this worker's connections (`idle_timeout`).
    private var idleTimer: Event?

    private enum Tag: Int { case drain = 0, idleScan = 1 }

    /// Scratch memory for one meta reply line, shared by this worker's connections (they run one
    /// at a time on its thread): a 2 KB temporary allocation per request would come from the heap.
    let metaLineScratch = UnsafeMutableRawBufferPointer.allocate(
        byteCount: MetaLineWriter.maximumLineLength, alignment: 16)

    init(index: Int, state: ServerState) {
        self.index = index
        self.state = state
        self.statistics = state.workerStatistics[index]
        self.base = EventBase()
        self.mailbox = Mailbox(base: base) { [unowned self] message in self.receive(message) }
    }

    deinit {
        metaLineScratch.deallocate()
    }

    /// Queues a message for this worker; safe from any thread.
    public func post(_ message: Message) {
        mailbox.post(message)
    }

    /// Starts the worker's thread.
    func start() {
        // The scan also ends TLS handshakes that take too long (`tls_handshake_timeout`).
        if state.configuration.idleTimeoutSeconds > 0 || state.tlsContext != nil {
            idleTimer = Event(base: base, descriptor: -1, what: Event.persist, handler: self, tag: Tag.idleScan.rawValue)
            idleTimer?.add(timeoutMilliseconds: 1000)
        }
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { context in
            let worker = Unmanaged<Worker>.fromOpaque(context!).takeRetainedValue()
            worker.base.run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed")
        thread = handle
    }

    /// Waits for the thread to end (after ``Message/stop``).
    func join() {
        if let thread { pthread_join(thread, nil) }
    }

    private func receive(_ message: Message) {
        switch message {
        case .adopt(let descriptor, let wantsTLS):
            if stopping {
                close(descriptor)
                state.currentConnections.subtract(1, ordering: .relaxed)
                return
            }
            let configuration = state.configuration
            if configuration.tcpKeepalive && configuration.unixSocketPath == nil {
                TCPKeepalive(
                    idleSeconds: configuration.tcpKeepaliveIdleSeconds,
                    intervalSeconds: configuration.tcpKeepaliveIntervalSeconds,
                    count: configuration.tcpKeepaliveProbes
                ).apply(to: descriptor)
            }
            let serial = state.connectionSerials.wrappingAdd(1, ordering: .relaxed).newValue
            var tls: TLSStream?
            if wantsTLS {
                tls = state.tlsContext?.makeStream(descriptor: descriptor)
                if tls == nil {
                    // OpenSSL could not make a session (out of memory): memcached closes too.
                    close(descriptor)
                    state.currentConnections.subtract(1, ordering: .relaxed)
                    return
                }
            }
            let connection = Connection(descriptor: descriptor, serial: serial, worker: self, tls: tls)
            connections[serial] = connection
            connection.start()
        case .wake(let wakes):
            for wake in wakes {
                if let connection = connections[wake.ticket.requester.connection] {
                    connection.wake(wake)
                } else {
                    // Closed meanwhile: a grant made after its close must still be given back.
                    state.giveBack(wake)
                }
            }
        case .stop(let drainMilliseconds):
            stopping = true
            idleTimer?.free()
            idleTimer = nil
            for connection in Array(connections.values) { connection.shutdown() }
            if connections.isEmpty {
                finishStopping()
            } else {
                drainTimer = Event(base: base, descriptor: -1, what: 0, handler: self, tag: Tag.drain.rawValue)
                drainTimer?.add(timeoutMilliseconds: drainMilliseconds)
            }
        }
    }

    /// Ends the loop, closing what did not drain in time.
    private func finishStopping() {
        guard !finished else { return }
        finished = true
        for connection in Array(connections.values) { connection.forceClose() }
        drainTimer?.free()
        drainTimer = nil
        mailbox.stopWatching()
        base.stop()
    }

    public func handle(_ event: Event, what: Int16) {
        switch Tag(rawValue: event.tag) {
        case .idleScan: closeIdleConnections()
        case .drain, nil: finishStopping()
        }
    }

    /// Closes every connection that received nothing for `idle_timeout` seconds and has no
    /// request parked (those wait on the server, not on the client). O(connections of this
    /// worker) once a second, as memcached's scan.
    private func closeIdleConnections() {
        let timeout = Int64(state.configuration.idleTimeoutSeconds) * 1000
        let now = MonotonicClock.milliseconds()
        var kicked = 0
        for connection in Array(connections.values) where connection.checkIdle(now: now, timeoutMilliseconds: timeout) {
            kicked += 1
        }
        if kicked > 0 {
            state.logger.info("closed idle connections", metadata: ["closed": "\(kicked)", "idle_timeout": "\(timeout / 1000)"])
        }
    }

    /// Called by a connection once its socket is closed.
    func connectionClosed(_ connection: Connection) {
        connections[connection.serial] = nil
        state.currentConnections.subtract(1, ordering: .relaxed)
        if stopping && connections.isEmpty { finishStopping() }
    }
}
