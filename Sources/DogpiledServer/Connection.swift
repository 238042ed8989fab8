import Coordination
import Dogpile
import EventLoop
import MemcacheProtocol

#if canImport(Glibc)
import Glibc
#endif

/// One client connection on a worker: the libevent driver of a ``ConnectionStateMachine``.
///
/// The machine decides (read, run, write, pause, park, drain, close); this class only does the
/// I/O it asks for and reports back, in one loop (``run(_:)``), so no path recurses from writing
/// into running into writing. Replies of pipelined requests are queued in order; reading pauses
/// while too much output is queued, and a closing connection first writes what is queued.
final class Connection: EventHandler {
    typealias Action = ConnectionStateMachine.Action
    typealias Watch = ConnectionStateMachine.Watch

    /// Queued output above which the connection stops executing requests until it drains.
    static let outputHighWater = 4 * 1024 * 1024
    /// Each connection's own input buffer; larger requests borrow from the server's budget.
    static let baseInputCapacity = 16 * 1024

    let descriptor: Int32
    /// Unique for the life of the server (descriptors are reused).
    let serial: UInt64
    /// The worker outlives its connections (it closes them all before it goes), so the reference
    /// is unowned(unsafe): no reference counting on the request path.
    unowned(unsafe) let worker: Worker
    /// Shared state and this worker's counters, kept here to spare the hops on every request.
    let state: ServerState
    let statistics: WorkerStatistics
    let input: InputBuffer
    let output = OutputBuffer()
    /// The TLS session of a `-Z` connection (nil on plain TCP and `notls:` listeners): reads and
    /// writes go through it, everything above is the same.
    let tls: TLSStream?
    /// Monotonic milliseconds of the accept, for the TLS handshake's time limit.
    let acceptedMilliseconds: Int64
    var parser: TextParser
    /// Every decision about this connection's life.
    var machine: ConnectionStateMachine
    private var readEvent: Event!
    private var writeEvent: Event!
    private var parkTimer: Event!
    private var yieldEvent: Event!
    /// The request waiting on the server, if any; nothing else is run meanwhile.
    var parked: ParkedRequest?
    /// Numbers this connection's waits, so a late answer cannot satisfy a later wait.
    var waitSequence: UInt64 = 0
    /// Keys of the multi-get at the head of the input already answered, when it stopped at the
    /// output high-water; 0 when no multi-get is part-way.
    var multiGetProgress = 0
    /// Where a `lru_crawler metadump` at the head of the input stopped at the output high-water;
    /// nil when none is part-way.
    var dumpCursor: DumpCursor?
    /// This connection's `stats conns` entry.
    let directoryEntry: ConnectionDirectory.Entry
    /// Draws for early recompute: cheap, and seeded per connection.
    var random: SplitMix64
    /// Whether this connection ever took part in locking (then closing must release).
    var usedLocks = false
    /// The events libevent watches now (driver bookkeeping, so watches are changed only on a
    /// difference).
    private var watching: Watch = []
    /// The socket and events are still open.
    private var isOpen = true
    /// Whether libevent watches the read and write events now (`watching` plus what a TLS
    /// session waits for).
    private var readArmed = false
    private var writeArmed = false
    /// The output size last added to the worker's `output_buffer_bytes`.
    private var reportedOutput = 0

    init(descriptor: Int32, serial: UInt64, worker: Worker, tls: TLSStream? = nil) {
        self.descriptor = descriptor
        self.tls = tls
        self.acceptedMilliseconds = MonotonicClock.milliseconds()
        self.serial = serial
        self.worker = worker
        self.state = worker.state
        self.statistics = worker.statistics
        let configuration = worker.state.configuration
        self.parser = TextParser(limits: state.parserLimits)
        self.input = InputBuffer(
            initialCapacity: Self.baseInputCapacity, maximumCapacity: configuration.maximumRequestBytes,
            budget: worker.state.inputBudget)
        self.directoryEntry = worker.state.directory.add(descriptor, listening: false, now: worker.state.clock.now)
        self.machine = ConnectionStateMachine(
            outputHighWater: Self.outputHighWater, requestsPerEvent: configuration.requestsPerEvent,
            now: MonotonicClock.milliseconds(), requiresAuthentication: worker.state.authenticator != nil)
        self.random = SplitMix64(seed: serial &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(UInt(bitPattern: ObjectIdentifier(worker).hashValue)))
        readEvent = Event(base: worker.base, descriptor: descriptor, what: Event.read | Event.persist, handler: self, tag: 0)
        writeEvent = Event(base: worker.base, descriptor: descriptor, what: Event.write | Event.persist, handler: self, tag: 1)
        parkTimer = Event(base: worker.base, descriptor: -1, what: 0, handler: self, tag: 2)
        yieldEvent = Event(base: worker.base, descriptor: -1, what: 0, handler: self, tag: 3)
    }

    /// This connection as the lock tables know it.
    var requester: Requester { Requester(worker: worker.index, connection: serial) }

    /// Monotonic milliseconds of the last bytes received: when a request arrived, at the latest.
    var lastReadMilliseconds: Int64 { machine.lastReadMilliseconds }

    func start() {
        run(machine.initialAction)
    }

    func handle(_ event: Event, what: Int16) {
        switch event.tag {
        case 0:
            // A TLS write that waited for a record from the peer goes on first.
            if let tls, tls.writeWantsReadable { run(machine.writable()) }
            if watching.contains(.read) { readable() }
        case 1:
            // A TLS read (the handshake) that waited to send goes on first.
            if let tls, tls.readWantsWritable { readable() }
            run(machine.writable())
        case 2: parkTimerFired()
        default:
            watching.remove(.yieldTimer)
            run(machine.yieldTimerFired())
        }
    }

    // MARK: - The loop

    /// Carries out `first` and whatever the machine asks next, until it waits for the loop.
    func run(_ first: Action) {
        var action = first
        while isOpen {
            switch action {
            case .none:
                return
            case .execute:
                let end = executeBatch()
                queueHeldReply()
                action = machine.batchEnded(end)
            case .write:
                action = writeOutput()
            case .wait(let watch):
                guard apply(watch) else {
                    action = machine.watchFailed()
                    continue
                }
                return
            case .close:
                closeNow()
                return
            }
        }
    }

    // MARK: - Reading

    private func readable() {
        var rounds = 0
        while isOpen {
            rounds += 1
            let action: Action
            switch tls.map({ $0.read(into: input) }) ?? input.read(from: descriptor) {
            case .read(let count):
                statistics.add(.bytesRead, UInt64(count))
                directoryEntry.lastCommand.store(state.clock.now, ordering: .relaxed)
                action = machine.bytesRead(now: MonotonicClock.milliseconds())
            case .endOfStream:
                action = machine.peerClosed()
            case .wouldBlock:
                if tls != nil { apply(watching) }
                return
            case .failed:
                if let tls, tls.handshakeFailed { statistics.add(.sslHandshakeErrors) }
                action = machine.readFailed()
            case .overLimit:
                action = inputOverLimit()
            }
            run(action)
            // More may wait in the socket when the read filled the buffer (or in the TLS
            // session's buffer); a few rounds, then the other connections get their turn.
            let more = input.isFull || (tls?.hasPendingInput ?? false)
            guard more, watching.contains(.read) else { return }
            guard rounds < 4 else {
                // Bytes OpenSSL holds are not signalled by the socket: come back for them.
                if tls != nil { readEvent.activate(Event.read) }
                return
            }
        }
    }

    /// Decodes and executes buffered requests until the machine stops the batch.
    private func executeBatch() -> ConnectionStateMachine.BatchEnd {
        var executed = 0
        while true {
            if let end = machine.mayRunNext(executed: executed, queuedOutput: output.count) {
                if end == .turnUsed { statistics.add(.connYields) }
                return end
            }
            executed += 1
            if machine.needsCredentials {
                if let end = executeAuthentication() { return end }
                continue
            }
            let buffer = input.readableBytes
            switch parser.parse(buffer) {
            case .needMoreData(let size):
                if machine.inputEnded { return .needInput }
                if size == 0 {
                    input.shrinkIfIdle()
                } else if !input.reserve(total: size) {
                    _ = inputOverLimit()
                    return .stateChanged
                }
                return .needInput
            case .skipped(let consumed):
                input.consume(consumed)
            case .command(let command, let consumed):
                execute(command, buffer)
                if multiGetProgress > 0 || dumpCursor != nil {
                    // A multi-get stopped at the output high-water: it runs on (from where it
                    // stopped) once the output drains, so its bytes stay in the input.
                    return .outputFull
                }
                input.consume(consumed)
            }
        }
    }

    /// The input may not grow (this connection's bound or the server's budget): answer as
    /// memcached does (`read_buf_oom`), drop any wait, and close once the line is written.
    private func inputOverLimit() -> Action {
        statistics.add(.readBufferOutOfMemory)
        let total = state.total(.readBufferOutOfMemory)
        if total == 1 || total % 1000 == 0 {
            state.logger.warning("closing connection: input buffer limit reached", metadata: [
                "input_buffer_limit": "\(state.inputBudget.limit)", "read_buf_oom_total": "\(total)",
            ])
        }
        dropWait()
        input.release()
        output.append("SERVER_ERROR out of memory reading request\r\n")
        return machine.inputOverLimit()
    }

    /// A request asked to close (`quit`, a fatal protocol error): nothing more runs, and the
    /// connection closes once its replies are written.
    func beginClosing() {
        machine.closeRequested()
    }

    // MARK: - Writing

    /// Writes what the socket takes and reports how much remains.
    private func writeOutput() -> Action {
        // A refused append left a reply incomplete: close rather than send part of it.
        if output.failed { return machine.writeFailed() }
        if let tls {
            let written = tls.write(from: output, recordBytes: state.tlsRecordBytes)
            if written < 0 { return machine.writeFailed() }
            if written > 0 { statistics.add(.bytesWritten, UInt64(written)) }
            if tls.writeWantsReadable { _ = apply(watching) }
        }
        while tls == nil && output.count > 0 {
            let written = output.write(to: descriptor)
            if written > 0 {
                statistics.add(.bytesWritten, UInt64(written))
                continue
            }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { break }
            return machine.writeFailed()
        }
        let remaining = output.count
        if remaining != reportedOutput {
            statistics.adjustOutputBytes(by: remaining - reportedOutput)
            reportedOutput = remaining
        }
        return machine.wrote(remaining: remaining)
    }

    /// Makes libevent watch exactly `watch` (and, on TLS, the direction OpenSSL waits for);
    /// false if it refused.
    @discardableResult
    private func apply(_ watch: Watch) -> Bool {
        var ok = true
        let wantsRead = watch.contains(.read) || (tls?.writeWantsReadable ?? false)
        let wantsWrite = watch.contains(.write) || (tls?.readWantsWritable ?? false)
        if wantsRead != readArmed {
            if wantsRead { ok = readEvent.add() && ok } else { readEvent.remove() }
            readArmed = wantsRead
            if wantsRead && watch.contains(.read) && (tls?.hasPendingInput ?? false) { readEvent.activate(Event.read) }
        }
        if wantsWrite != writeArmed {
            if wantsWrite { ok = writeEvent.add() && ok } else { writeEvent.remove() }
            writeArmed = wantsWrite
        }
        if watch.contains(.yieldTimer) != watching.contains(.yieldTimer) {
            // A zero timeout runs the connection again on the next loop iteration, after the
            // other ready connections of the worker.
            if watch.contains(.yieldTimer) { ok = yieldEvent.add(timeoutMilliseconds: 0) && ok } else { yieldEvent.remove() }
        }
        watching = watch
        return ok
    }

    /// Arms the parked request's timer for the monotonic time `deadline` (ms).
    func armParkTimer(at deadline: Int64) {
        if !parkTimer.add(timeoutMilliseconds: Int(max(0, deadline - MonotonicClock.milliseconds()))) {
            // Without its timer the wait could outlive `wait_ms` unseen: give up on the connection.
            _ = machine.watchFailed()
        }
    }

    // MARK: - Server events

    /// The worker's once-a-second check (`idle_timeout`). True if the connection closed.
    func checkIdle(now: Int64, timeoutMilliseconds: Int64) -> Bool {
        let handshakeLimit = Int64(state.configuration.tlsHandshakeTimeoutSeconds) * 1000
        if handshakeOverdue(now: now, timeoutMilliseconds: handshakeLimit) {
            statistics.add(.sslHandshakeTimeouts)
            run(machine.forceClose())
            return true
        }
        let action = machine.idleCheck(now: now, timeoutMilliseconds: timeoutMilliseconds)
        guard action == .close else { return false }
        statistics.add(.idleKicks)
        run(action)
        return true
    }

    /// The server stops: a parked request is answered now rather than dropped, nothing more runs,
    /// and the connection closes once its replies are written.
    func shutdown() {
        if parked != nil {
            parked = nil
            output.append("SERVER_ERROR shutting down\r\n")
        }
        run(machine.shutdown())
    }

    /// The shutdown drain ran out of time: close now, dropping unwritten output.
    func forceClose() {
        run(machine.forceClose())
    }

    // MARK: - Closing

    /// Closes the socket now, dropping unwritten output and releasing every lock the connection
    /// holds or waits for.
    func closeNow() {
        guard isOpen else { return }
        isOpen = false
        readEvent.free()
        writeEvent.free()
        parkTimer.free()
        yieldEvent.free()
        parked = nil
        input.release()
        statistics.adjustOutputBytes(by: -reportedOutput)
        reportedOutput = 0
        state.directory.remove(descriptor)
        tls?.shutdown()
        Glibc.close(descriptor)
        if usedLocks {
            state.leases.connectionClosed(requester)
            state.mutexes.connectionClosed(requester)
        }
        worker.connectionClosed(self)
    }
}
