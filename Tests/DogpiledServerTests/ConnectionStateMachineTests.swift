import Testing

@testable import DogpiledServer

/// Every transition of the connection's life, without a socket: the driver's part is played by
/// the test, which feeds inputs and checks the action asked for.
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    static let highWater = 1000

    func machine(requestsPerEvent: Int = 20) -> Machine {
        Machine(outputHighWater: Self.highWater, requestsPerEvent: requestsPerEvent, now: 0)
    }

    /// Drives one batch that ends with `end`, then a write that leaves `remaining` bytes.
    func batch(_ m: inout Machine, ends end: Machine.BatchEnd, remaining: Int = 0) -> Machine.Action {
        #expect(m.batchEnded(end) == .write)
        return m.wrote(remaining: remaining)
    }

    @Test("a new connection watches for reading")
    func starts() {
        let m = machine()
        #expect(m.state == .reading)
        #expect(m.initialAction == .wait([.read]))
    }

    @Test("bytes run, replies are written, then it reads again")
    func requestCycle() {
        var m = machine()
        #expect(m.bytesRead(now: 5) == .execute)
        #expect(m.state == .executing)
        #expect(m.mayRunNext(executed: 0, queuedOutput: 0) == nil)
        #expect(batch(&m, ends: .needInput) == .wait([.read]))
        #expect(m.state == .reading)
        #expect(m.lastReadMilliseconds == 5)
    }

    @Test("output the socket did not take is watched for writability, reading goes on")
    func partialWrite() {
        var m = machine()
        _ = m.bytesRead(now: 1)
        #expect(batch(&m, ends: .needInput, remaining: 100) == .wait([.read, .write]))
        #expect(m.writable() == .write)
        #expect(m.wrote(remaining: 0) == .wait([.read]))
    }

    @Test("past the output high-water mark nothing runs or is read until the output drains")
    func pausesForOutput() {
        var m = machine()
        _ = m.bytesRead(now: 1)
        #expect(m.mayRunNext(executed: 3, queuedOutput: Self.highWater + 1) == .outputFull)
        #expect(batch(&m, ends: .outputFull, remaining: 900) == .wait([.write]))
        #expect(m.state == .pausedForOutput)
        #expect(m.bytesRead(now: 2) == .none)
        #expect(m.writable() == .write)
        #expect(m.wrote(remaining: 10) == .wait([.write]))
        // Drained: what was left in the input runs (in the same loop, no recursion).
        #expect(m.wrote(remaining: 0) == .execute)
        #expect(m.state == .executing)
        #expect(batch(&m, ends: .needInput) == .wait([.read]))
    }

    @Test("-R: after requestsPerEvent requests the connection yields a turn and comes back")
    func yields() {
        var m = machine(requestsPerEvent: 2)
        _ = m.bytesRead(now: 1)
        #expect(m.mayRunNext(executed: 1, queuedOutput: 0) == nil)
        #expect(m.mayRunNext(executed: 2, queuedOutput: 0) == .turnUsed)
        #expect(batch(&m, ends: .turnUsed) == .wait([.yieldTimer]))
        #expect(m.state == .yielded)
        #expect(m.bytesRead(now: 2) == .none)
        #expect(m.yieldTimerFired() == .execute)
        #expect(m.yieldTimerFired() == .none)
    }

    @Test("quit: nothing more runs, the replies are written, then the socket closes")
    func quit() {
        var m = machine()
        _ = m.bytesRead(now: 1)
        m.closeRequested()
        #expect(m.mayRunNext(executed: 1, queuedOutput: 0) == .stateChanged)
        #expect(batch(&m, ends: .stateChanged, remaining: 50) == .wait([.write]))
        #expect(m.state == .draining)
        #expect(m.bytesRead(now: 2) == .none)
        #expect(m.wrote(remaining: 0) == .close)
        #expect(m.state == .closed)
    }

    @Test("end of stream: what the client sent still runs and is answered, then it closes")
    func halfCloseWhileReading() {
        var m = machine()
        #expect(m.peerClosed() == .execute)
        #expect(m.inputEnded)
        #expect(batch(&m, ends: .needInput, remaining: 70) == .wait([.write]))
        #expect(m.wrote(remaining: 0) == .close)
    }

    @Test("end of stream while paused for output: no more reading, the rest still runs")
    func halfCloseWhilePaused() {
        var m = machine()
        _ = m.bytesRead(now: 1)
        _ = batch(&m, ends: .outputFull, remaining: 900)
        #expect(m.peerClosed() == .wait([.write]))
        #expect(m.wrote(remaining: 0) == .execute)
        #expect(batch(&m, ends: .needInput) == .close)
    }

    @Test("a parked request still watches the socket; bytes meanwhile are only buffered")
    func parkedKeepsReading() {
        var m = machine()
        _ = m.bytesRead(now: 1)
        m.park()
        #expect(m.mayRunNext(executed: 1, queuedOutput: 0) == .stateChanged)
        #expect(batch(&m, ends: .stateChanged) == .wait([.read]))
        #expect(m.state == .parked)
        #expect(m.bytesRead(now: 9) == .none)
        #expect(m.state == .parked)
        #expect(m.lastReadMilliseconds == 9)
        // Answered: the answer goes out first, then the pipelined requests run.
        #expect(m.answered(shuttingDown: false) == .write)
        #expect(m.wrote(remaining: 0) == .execute)
        #expect(m.answered(shuttingDown: false) == .none)
    }

    @Test("a parked client that hangs up or resets is gone at once", arguments: [true, false])
    func hangUpWhileParked(reset: Bool) {
        var m = machine()
        _ = m.bytesRead(now: 1)
        m.park()
        _ = batch(&m, ends: .stateChanged)
        #expect((reset ? m.readFailed() : m.peerClosed()) == .close)
        #expect(m.state == .closed)
        #expect(m.answered(shuttingDown: false) == .none)
    }

    @Test("a client that half-closed before its request parked is treated as gone")
    func halfClosedThenParks() {
        var m = machine()
        _ = m.peerClosed()
        m.park()
        #expect(m.batchEnded(.stateChanged) == .close)
    }

    @Test("SIGTERM while parked: the answer drains and nothing pipelined runs after it")
    func shutdownWhileParked() {
        var m = machine()
        _ = m.bytesRead(now: 1)
        m.park()
        _ = batch(&m, ends: .stateChanged)
        #expect(m.shutdown() == .write)
        #expect(m.state == .draining)
        #expect(m.answered(shuttingDown: true) == .none)
        #expect(m.bytesRead(now: 2) == .none)
        #expect(m.wrote(remaining: 0) == .close)
    }

    @Test("woken with SERVER_ERROR shutting down: no pipelined request runs after it")
    func wokenForShutdown() {
        var m = machine()
        _ = m.bytesRead(now: 1)
        m.park()
        _ = batch(&m, ends: .stateChanged)
        #expect(m.answered(shuttingDown: true) == .write)
        #expect(m.state == .draining)
        #expect(m.wrote(remaining: 30) == .wait([.write]))
        #expect(m.wrote(remaining: 0) == .close)
    }

    @Test("shutdown in each state drains; a closed connection stays closed")
    func shutdownFromEveryState() {
        var reading = machine()
        #expect(reading.shutdown() == .write)
        #expect(reading.wrote(remaining: 0) == .close)
        var yielded = machine(requestsPerEvent: 1)
        _ = yielded.bytesRead(now: 1)
        _ = batch(&yielded, ends: .turnUsed)
        #expect(yielded.shutdown() == .write)
        #expect(yielded.yieldTimerFired() == .none)
        #expect(yielded.shutdown() == .write)
        #expect(yielded.wrote(remaining: 0) == .close)
        #expect(yielded.shutdown() == .none)
    }

    @Test("idle: nothing received for the timeout closes, unless a request is parked")
    func idleTimeout() {
        var m = machine()
        #expect(m.idleCheck(now: 999, timeoutMilliseconds: 1000) == .none)
        #expect(m.idleCheck(now: 5000, timeoutMilliseconds: 0) == .none)
        _ = m.bytesRead(now: 500)
        m.park()
        _ = batch(&m, ends: .stateChanged)
        #expect(m.idleCheck(now: 10_000, timeoutMilliseconds: 1000) == .none)
        _ = m.answered(shuttingDown: false)
        _ = m.wrote(remaining: 0)
        _ = batch(&m, ends: .needInput)
        #expect(m.idleCheck(now: 1499, timeoutMilliseconds: 1000) == .none)
        #expect(m.idleCheck(now: 1500, timeoutMilliseconds: 1000) == .close)
        #expect(m.state == .closed)
    }

    @Test("a client stuck not reading its replies is idle too")
    func idleWhilePaused() {
        var m = machine()
        _ = m.bytesRead(now: 0)
        _ = batch(&m, ends: .outputFull, remaining: 2000)
        #expect(m.idleCheck(now: 2000, timeoutMilliseconds: 1000) == .close)
    }

    @Test("input over its bound: the error line is written, then the socket closes", arguments: [false, true])
    func inputOverLimit(parked: Bool) {
        var m = machine()
        _ = m.bytesRead(now: 1)
        if parked {
            m.park()
            _ = batch(&m, ends: .stateChanged)
        }
        #expect(m.inputOverLimit() == .write)
        #expect(m.state == .draining)
        #expect(m.wrote(remaining: 0) == .close)
        #expect(m.inputOverLimit() == .none)
    }

    @Test("a failed write, read or watch closes at once, never leaving a half reply followed by more")
    func failuresClose() {
        var writing = machine()
        _ = writing.bytesRead(now: 1)
        #expect(writing.writeFailed() == .close)
        #expect(writing.writeFailed() == .none)
        var watching = machine()
        #expect(watching.watchFailed() == .close)
        var inBatch = machine()
        _ = inBatch.bytesRead(now: 1)
        failDuringBatch(&inBatch)
        #expect(inBatch.mayRunNext(executed: 0, queuedOutput: 0) == .stateChanged)
        #expect(inBatch.batchEnded(.stateChanged) == .close)
    }

    private func failDuringBatch(_ m: inout Machine) {
        // The park timer could not be armed while the batch ran.
        m.park()
        _ = m.watchFailed()
    }

    @Test("the shutdown drain running out closes whatever state the connection is in")
    func forceClose() {
        var m = machine()
        _ = m.bytesRead(now: 1)
        _ = batch(&m, ends: .outputFull, remaining: 5000)
        #expect(m.forceClose() == .close)
        #expect(m.writable() == .none)
        #expect(m.watch == [])
    }
}
