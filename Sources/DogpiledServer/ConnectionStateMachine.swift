/// The life of one client connection as a pure state machine: no sockets, no clock, no store.
///
/// The libevent ``Connection`` feeds it what happened (bytes read, the peer closed, the socket is
/// writable, a parked request was answered, a timer fired, the server stops) and carries out the
/// ``Action`` it returns, reporting the result back, in a loop, until the action is to wait for the
/// event loop again (as postgres-nio's `ConnectionStateMachine` drives a channel). Every rule about
/// when to read, run, write, pause or close lives here and is tested without a socket.
///
/// One request at a time is in flight: replies stay in order, and while a request is parked
/// nothing more is run, though the socket is still read so a hang-up is seen at once.
struct ConnectionStateMachine {
    /// Where the connection is in its cycle.
    enum State: Equatable {
        /// Waiting for bytes from the client.
        case reading
        /// Decoding and running buffered requests (the driver is inside a batch, or about to be).
        case executing
        /// Gave the other connections of the worker a turn (`-R`); resumes on the next loop turn.
        case yielded
        /// Too much output is queued: nothing runs or is read until it drains.
        case pausedForOutput
        /// A request waits on the server (lock verbs); read only to notice a hang-up.
        case parked
        /// No more requests run: write what is queued, then close.
        case draining
        /// The socket is closed (or is to be closed now).
        case closed
    }

    /// What the driver is to watch while it waits for the event loop.
    struct Watch: OptionSet, Equatable {
        let rawValue: UInt8
        /// The socket's read event.
        static let read = Watch(rawValue: 1)
        /// The socket's write event.
        static let write = Watch(rawValue: 2)
        /// A zero timeout that runs the connection again on the next loop iteration.
        static let yieldTimer = Watch(rawValue: 4)
    }

    /// What the driver does next.
    enum Action: Equatable {
        /// Decode and run buffered requests, asking ``mayRunNext(executed:queuedOutput:)`` before
        /// each, then report ``batchEnded(_:)``.
        case execute
        /// Write queued output, then report ``wrote(remaining:)`` or ``writeFailed()``.
        case write
        /// Return to the event loop watching exactly these events.
        case wait(Watch)
        /// Close the socket now, dropping any wait the connection has on the lock tables.
        case close
        /// Nothing changes.
        case none
    }

    /// Why a batch of requests stopped.
    enum BatchEnd: Equatable {
        /// The input holds no complete request.
        case needInput
        /// Queued output passed the high-water mark.
        case outputFull
        /// `requestsPerEvent` requests ran: give the others a turn.
        case turnUsed
        /// A request parked the connection or asked to close it (`quit`, a fatal error).
        case stateChanged
    }

    /// Queued output above which no more requests run until it drains.
    let outputHighWater: Int
    /// Requests run per event before the others get a turn (`-R`).
    let requestsPerEvent: Int

    private(set) var state: State = .reading
    /// The peer shut its side: what it sent still runs (unless it waits), nothing more is read.
    private(set) var inputEnded = false
    /// Output is queued that the socket has not taken yet.
    private(set) var outputPending = false
    /// Monotonic milliseconds of the last bytes received (or of the accept).
    private(set) var lastReadMilliseconds: Int64
    /// `-Y`: whether requests run yet (see ConnectionStateMachine+Authentication).
    var authentication: AuthenticationState

    /// A connection accepted at `now` (monotonic milliseconds); with `requiresAuthentication`
    /// (`-Y`) nothing runs until the client authenticates.
    init(outputHighWater: Int, requestsPerEvent: Int, now: Int64, requiresAuthentication: Bool = false) {
        self.outputHighWater = outputHighWater
        self.requestsPerEvent = max(1, requestsPerEvent)
        self.lastReadMilliseconds = now
        self.authentication = requiresAuthentication ? .awaitingCredentials(held: nil) : .notRequired
    }

    /// What to watch right after the accept.
    var initialAction: Action { .wait(watch) }

    // MARK: - Inputs from the socket

    /// Bytes arrived at `now`. They run at once unless the connection is busy; a parked one only
    /// buffers them (they count against the input bound).
    mutating func bytesRead(now: Int64) -> Action {
        lastReadMilliseconds = now
        guard state == .reading else { return .none }
        state = .executing
        return .execute
    }

    /// The peer will send nothing more (end of stream). Like memcached, what it sent still runs and
    /// its replies are written; but a parked request's client is taken as gone.
    mutating func peerClosed() -> Action {
        switch state {
        case .closed, .draining:
            return .none
        case .parked:
            state = .closed
            return .close
        case .reading:
            inputEnded = true
            state = .executing
            return .execute
        case .executing:
            // Mid-batch: the batch goes on and sees the end of input when it needs more.
            inputEnded = true
            return .none
        case .yielded, .pausedForOutput:
            inputEnded = true
            return .wait(watch)
        }
    }

    /// Reading failed (a reset, an error): nothing can be answered any more.
    mutating func readFailed() -> Action {
        closeUnlessClosed()
    }

    /// The connection's input passed its bound (per connection, or the server's total): the driver
    /// queued an error line; write it and close.
    mutating func inputOverLimit() -> Action {
        drain()
    }

    /// The socket can take more output.
    mutating func writable() -> Action {
        state == .closed ? .none : .write
    }

    /// The driver wrote what the socket took; `remaining` bytes are still queued.
    mutating func wrote(remaining: Int) -> Action {
        outputPending = remaining > 0
        switch state {
        case .closed:
            return .none
        case .executing:
            return .execute
        case .pausedForOutput where remaining == 0:
            // Drained: run what was left in the input (a `quit` may be among it), then read again.
            state = .executing
            return .execute
        case .draining where remaining == 0:
            state = .closed
            return .close
        default:
            return .wait(watch)
        }
    }

    /// Writing failed (the peer is gone): a half-written reply must not be followed by more.
    mutating func writeFailed() -> Action {
        closeUnlessClosed()
    }

    /// Watching an event failed (`event_add`): the connection could hang unseen, so close it.
    mutating func watchFailed() -> Action {
        closeUnlessClosed()
    }

    // MARK: - Inputs from the batch of requests

    /// Asked before each request of a batch: nil to run it, else why the batch stops here.
    func mayRunNext(executed: Int, queuedOutput: Int) -> BatchEnd? {
        if state != .executing { return .stateChanged }
        if queuedOutput > outputHighWater { return .outputFull }
        if executed >= requestsPerEvent { return .turnUsed }
        return nil
    }

    /// A request of the batch waits on the server.
    mutating func park() {
        guard state == .executing else { return }
        state = .parked
    }

    /// A request asked to close (`quit`, a fatal protocol error): nothing more runs.
    mutating func closeRequested() {
        guard state != .closed else { return }
        state = .draining
    }

    /// The batch stopped; the queued replies are written next.
    mutating func batchEnded(_ reason: BatchEnd) -> Action {
        switch (state, reason) {
        case (.executing, .needInput):
            state = inputEnded ? .draining : .reading
        case (.executing, .outputFull):
            state = .pausedForOutput
        case (.executing, .turnUsed):
            state = .yielded
        case (.parked, _) where inputEnded:
            // Half-closed while its request waits: treated as gone, as memcached closes on EOF.
            state = .closed
            return .close
        case (.closed, _):
            // Closed during the batch (a watch failed): carry it out.
            return .close
        default:
            break
        }
        return .write
    }

    // MARK: - Inputs from the event loop and the server

    /// The yield timer fired: the connection's turn has come again.
    mutating func yieldTimerFired() -> Action {
        guard state == .yielded else { return .none }
        state = .executing
        return .execute
    }

    /// The parked request was answered (a value, a grant, `BUSY`, or `SERVER_ERROR shutting
    /// down`): the driver queued the answer. It goes out first, then the requests that arrived
    /// meanwhile run, unless the server is stopping.
    mutating func answered(shuttingDown: Bool) -> Action {
        guard state == .parked else { return .none }
        state = shuttingDown ? .draining : .executing
        return .write
    }

    /// The server stops: nothing more runs; queued replies drain (the driver answered a parked
    /// request first).
    mutating func shutdown() -> Action {
        drain()
    }

    /// The server closes the connection now (the shutdown drain ran out of time).
    mutating func forceClose() -> Action {
        state = .closed
        return .close
    }

    /// The worker's periodic check: a connection that received nothing for `timeout` ms and has no
    /// request parked is closed (memcached's `idle_timeout`); closing releases what it holds.
    mutating func idleCheck(now: Int64, timeoutMilliseconds: Int64) -> Action {
        guard timeoutMilliseconds > 0, state != .parked, state != .closed,
              now - lastReadMilliseconds >= timeoutMilliseconds else { return .none }
        state = .closed
        return .close
    }

    // MARK: - Watches

    /// The events to watch in the current state.
    var watch: Watch {
        var watch: Watch = []
        switch state {
        case .reading, .parked:
            if !inputEnded { watch.insert(.read) }
        case .yielded:
            watch.insert(.yieldTimer)
        case .executing, .pausedForOutput, .draining, .closed:
            break
        }
        if outputPending && state != .closed { watch.insert(.write) }
        return watch
    }

    // MARK: - Shared endings

    /// A request of the batch ends the connection at once, writing nothing (the batch sees the
    /// closed state, and ``batchEnded(_:)`` asks for the close).
    mutating func closeFromBatch() {
        guard state == .executing else { return }
        state = .closed
    }

    /// Ends the connection at once, without writing: a failure after which nothing can be sent.
    private mutating func closeUnlessClosed() -> Action {
        guard state != .closed else { return .none }
        state = .closed
        return .close
    }

    /// Runs nothing more; what is queued (an answer, an error line) is written, then it closes.
    private mutating func drain() -> Action {
        switch state {
        case .closed: return .none
        case .draining: return .write
        default:
            state = .draining
            return .write
        }
    }
}
