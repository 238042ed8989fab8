import Coordination
import EventLoop
import MemcacheProtocol

#if canImport(Glibc)
import Glibc
#endif

/// One client connection on a worker: reads requests, executes them in order, writes replies.
///
/// The cycle is: read what the socket has → decode and execute every complete request → write
/// what the socket takes. Replies of pipelined requests are queued in order. Reading pauses while
/// too much output is queued (a slow reader cannot make the server buffer without bound), and a
/// closing connection first writes everything already queued.
final class Connection: EventHandler {
    /// Queued output above which the connection stops executing requests until it drains.
    static let outputHighWater = 4 * 1024 * 1024

    let descriptor: Int32
    /// Unique for the life of the server (descriptors are reused).
    let serial: UInt64
    /// The worker outlives its connections (it closes them all before it goes), so the reference
    /// is unowned(unsafe): no reference counting on the request path.
    unowned(unsafe) let worker: Worker
    /// Shared state and this worker's counters, kept here to spare the hops on every request.
    let state: ServerState
    let statistics: WorkerStatistics
    let input = InputBuffer()
    let output = OutputBuffer()
    var parser: TextParser
    private var readEvent: Event!
    private var writeEvent: Event!
    private var parkTimer: Event!
    private var yieldEvent: Event!
    /// The request waiting on the server, if any; nothing else is read or run meanwhile.
    var parked: ParkedRequest?
    /// Numbers this connection's waits, so a late answer cannot satisfy a later wait.
    var waitSequence: UInt64 = 0
    /// Whether this connection ever took part in locking (then closing must release).
    var usedLocks = false
    /// Monotonic ms of the last read: a lock request's wait counts from its arrival.
    var lastReadMilliseconds: Int64 = 0
    private var writeEventAdded = false
    private var readEventAdded = false
    /// Set by `quit`, a fatal request, or a hang-up once its requests have run: no more requests
    /// are read or run.
    private(set) var closing = false
    /// The peer shut its side: nothing more to read, but what it sent still runs.
    private var peerClosed = false
    /// Requests stopped running because too much output is queued.
    private var pausedForOutput = false
    /// Requests stopped running for a turn (`-R`); they resume on the next loop iteration.
    private var yielding = false
    private(set) var closed = false

    init(descriptor: Int32, serial: UInt64, worker: Worker) {
        self.descriptor = descriptor
        self.serial = serial
        self.worker = worker
        self.state = worker.state
        self.statistics = worker.statistics
        self.parser = TextParser(limits: state.parserLimits)
        readEvent = Event(base: worker.base, descriptor: descriptor, what: Event.read | Event.persist, handler: self, tag: 0)
        writeEvent = Event(base: worker.base, descriptor: descriptor, what: Event.write | Event.persist, handler: self, tag: 1)
        parkTimer = Event(base: worker.base, descriptor: -1, what: 0, handler: self, tag: 2)
        yieldEvent = Event(base: worker.base, descriptor: -1, what: 0, handler: self, tag: 3)
    }

    /// This connection as the lock tables know it.
    var requester: Requester { Requester(worker: worker.index, connection: serial) }

    func start() {
        setReading(true)
    }

    func handle(_ event: Event, what: Int16) {
        switch event.tag {
        case 0: readable()
        case 1: writable()
        case 2: parkTimerFired()
        default:
            yielding = false
            executeBufferedRequests()
            if !yielding && !pausedForOutput && parked == nil && !closing { setReading(true) }
            flush()
        }
    }

    // MARK: - Reading

    private func readable() {
        var rounds = 0
        while !closing {
            let count = input.read(from: descriptor)
            if count > 0 {
                lastReadMilliseconds = MonotonicClock.milliseconds()
                statistics.add(.bytesRead, UInt64(count))
                executeBufferedRequests()
                rounds += 1
                // A parked request stops reading: nothing more is read until it is answered.
                if input.isFull && rounds < 4 && parked == nil && !yielding { continue }
                break
            }
            if count == 0 {
                // The peer will send nothing more: run what it did send (a yield may have left
                // some), write every reply, then close.
                peerClosed = true
                setReading(false)
                executeBufferedRequests()
                break
            }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { break }
            closeNow()
            return
        }
        flush()
    }

    /// Decodes and executes every complete request in the input buffer.
    func executeBufferedRequests() {
        var executed = 0
        while !closing && parked == nil {
            if output.count > Self.outputHighWater {
                pausedForOutput = true
                setReading(false)
                return
            }
            if executed == state.configuration.requestsPerEvent {
                // memcached's -R: give the other connections of this worker a turn; a zero
                // timeout brings this one back on the next loop iteration.
                // Nothing more is read meanwhile, so a fast sender cannot grow the input without
                // bound while its requests wait their turn.
                statistics.add(.connYields)
                yielding = true
                setReading(false)
                yieldEvent.add(timeoutMilliseconds: 0)
                return
            }
            executed += 1
            let buffer = input.readableBytes
            switch parser.parse(buffer) {
            case .needMoreData(let size):
                if peerClosed {
                    beginClosing()
                    return
                }
                if size > 0 { input.reserve(total: size) } else { input.shrinkIfIdle() }
                return
            case .skipped(let consumed):
                input.consume(consumed)
            case .command(let command, let consumed):
                execute(command, buffer)
                input.consume(consumed)
            }
        }
    }

    func setReading(_ enabled: Bool) {
        guard enabled != readEventAdded, !closed, !(enabled && peerClosed) else { return }
        readEventAdded = enabled
        if enabled { readEvent.add() } else { readEvent.remove() }
    }

    // MARK: - Writing

    /// Writes queued output; watches for writability while some remains.
    /// Arms the parked request's timer for the monotonic time `deadline` (ms).
    func armParkTimer(at deadline: Int64) {
        parkTimer.add(timeoutMilliseconds: Int(max(0, deadline - MonotonicClock.milliseconds())))
    }

    func flush() {
        guard !closed else { return }
        while output.count > 0 {
            let written = output.write(to: descriptor)
            if written > 0 {
                statistics.add(.bytesWritten, UInt64(written))
                continue
            }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { break }
            closeNow()
            return
        }
        if output.count > 0 {
            if !writeEventAdded {
                writeEventAdded = true
                writeEvent.add()
            }
            return
        }
        if writeEventAdded {
            writeEventAdded = false
            writeEvent.remove()
        }
        if closing {
            closeNow()
        } else if pausedForOutput && parked == nil {
            // Output drained after a pause: run what was left in the input, then read again.
            pausedForOutput = false
            setReading(true)
            executeBufferedRequests()
            // Also when nothing was queued: a `quit` or a close may have been among them.
            if output.count > 0 || closing { flush() }
        }
    }

    private func writable() {
        flush()
    }

    // MARK: - Closing

    /// Stops reading and running requests; the socket closes once queued output is written.
    func beginClosing() {
        closing = true
        setReading(false)
    }

    /// Closes the socket now, dropping unwritten output.
    func closeNow() {
        guard !closed else { return }
        closed = true
        closing = true
        readEvent.free()
        writeEvent.free()
        parkTimer.free()
        yieldEvent.free()
        parked = nil
        Glibc.close(descriptor)
        if usedLocks {
            state.leases.connectionClosed(requester)
            state.mutexes.connectionClosed(requester)
        }
        worker.connectionClosed(self)
    }
}
