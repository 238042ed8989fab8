import Testing

@testable import DogpiledServer

/// Every input in every state, as one table: the action asked for and the state left in.
@Suite("Connection state machine: transition table")
struct ConnectionTransitionTableTests {
    typealias Machine = ConnectionStateMachine
    typealias State = Machine.State
    typealias Action = Machine.Action

    /// The inputs, each applied to a fresh machine in the state under test.
    enum Input: CaseIterable {
        case bytesRead, peerClosed, readFailed, inputOverLimit, writable, drained, partlyWritten
        case writeFailed, watchFailed, yieldTimerFired, answered, answeredShuttingDown, shutdown
        case idleTimeout, forceClose

        func apply(_ m: inout Machine) -> Action {
            switch self {
            case .bytesRead: m.bytesRead(now: 10)
            case .peerClosed: m.peerClosed()
            case .readFailed: m.readFailed()
            case .inputOverLimit: m.inputOverLimit()
            case .writable: m.writable()
            case .drained: m.wrote(remaining: 0)
            case .partlyWritten: m.wrote(remaining: 10)
            case .writeFailed: m.writeFailed()
            case .watchFailed: m.watchFailed()
            case .yieldTimerFired: m.yieldTimerFired()
            case .answered: m.answered(shuttingDown: false)
            case .answeredShuttingDown: m.answered(shuttingDown: true)
            case .shutdown: m.shutdown()
            case .idleTimeout: m.idleCheck(now: 1_000_000, timeoutMilliseconds: 1000)
            case .forceClose: m.forceClose()
            }
        }
    }

    /// A machine in `state`, reached through the inputs a real connection sees.
    static func machine(in state: State) -> Machine {
        var m = Machine(outputHighWater: 1000, requestsPerEvent: 1, now: 0)
        switch state {
        case .reading:
            break
        case .executing:
            _ = m.bytesRead(now: 0)
        case .yielded:
            _ = m.bytesRead(now: 0)
            _ = m.batchEnded(.turnUsed)
            _ = m.wrote(remaining: 0)
        case .pausedForOutput:
            _ = m.bytesRead(now: 0)
            _ = m.batchEnded(.outputFull)
            _ = m.wrote(remaining: 5000)
        case .parked:
            _ = m.bytesRead(now: 0)
            m.park()
            _ = m.batchEnded(.stateChanged)
            _ = m.wrote(remaining: 0)
        case .draining:
            _ = m.bytesRead(now: 0)
            m.closeRequested()
            _ = m.batchEnded(.stateChanged)
            _ = m.wrote(remaining: 10)
        case .closed:
            _ = m.forceClose()
        }
        #expect(m.state == state)
        return m
    }

    static let close: (Action, State) = (.close, .closed)

    /// state -> input -> (action, next state).
    static let table: [State: [Input: (Action, State)]] = [
        .reading: [
            .bytesRead: (.execute, .executing), .peerClosed: (.execute, .executing),
            .readFailed: close, .inputOverLimit: (.write, .draining), .writable: (.write, .reading),
            .drained: (.wait([.read]), .reading), .partlyWritten: (.wait([.read, .write]), .reading),
            .writeFailed: close, .watchFailed: close, .yieldTimerFired: (.none, .reading),
            .answered: (.none, .reading), .answeredShuttingDown: (.none, .reading),
            .shutdown: (.write, .draining), .idleTimeout: close, .forceClose: close,
        ],
        .executing: [
            .bytesRead: (.none, .executing), .peerClosed: (.none, .executing),
            .readFailed: close, .inputOverLimit: (.write, .draining), .writable: (.write, .executing),
            .drained: (.execute, .executing), .partlyWritten: (.execute, .executing),
            .writeFailed: close, .watchFailed: close, .yieldTimerFired: (.none, .executing),
            .answered: (.none, .executing), .answeredShuttingDown: (.none, .executing),
            .shutdown: (.write, .draining), .idleTimeout: close, .forceClose: close,
        ],
        .yielded: [
            .bytesRead: (.none, .yielded), .peerClosed: (.wait([.yieldTimer]), .yielded),
            .readFailed: close, .inputOverLimit: (.write, .draining), .writable: (.write, .yielded),
            .drained: (.wait([.yieldTimer]), .yielded), .partlyWritten: (.wait([.yieldTimer, .write]), .yielded),
            .writeFailed: close, .watchFailed: close, .yieldTimerFired: (.execute, .executing),
            .answered: (.none, .yielded), .answeredShuttingDown: (.none, .yielded),
            .shutdown: (.write, .draining), .idleTimeout: close, .forceClose: close,
        ],
        .pausedForOutput: [
            .bytesRead: (.none, .pausedForOutput), .peerClosed: (.wait([.write]), .pausedForOutput),
            .readFailed: close, .inputOverLimit: (.write, .draining), .writable: (.write, .pausedForOutput),
            .drained: (.execute, .executing), .partlyWritten: (.wait([.write]), .pausedForOutput),
            .writeFailed: close, .watchFailed: close, .yieldTimerFired: (.none, .pausedForOutput),
            .answered: (.none, .pausedForOutput), .answeredShuttingDown: (.none, .pausedForOutput),
            .shutdown: (.write, .draining), .idleTimeout: close, .forceClose: close,
        ],
        .parked: [
            .bytesRead: (.none, .parked), .peerClosed: close,
            .readFailed: close, .inputOverLimit: (.write, .draining), .writable: (.write, .parked),
            .drained: (.wait([.read]), .parked), .partlyWritten: (.wait([.read, .write]), .parked),
            .writeFailed: close, .watchFailed: close, .yieldTimerFired: (.none, .parked),
            .answered: (.write, .executing), .answeredShuttingDown: (.write, .draining),
            .shutdown: (.write, .draining), .idleTimeout: (.none, .parked), .forceClose: close,
        ],
        .draining: [
            .bytesRead: (.none, .draining), .peerClosed: (.none, .draining),
            .readFailed: close, .inputOverLimit: (.write, .draining), .writable: (.write, .draining),
            .drained: close, .partlyWritten: (.wait([.write]), .draining),
            .writeFailed: close, .watchFailed: close, .yieldTimerFired: (.none, .draining),
            .answered: (.none, .draining), .answeredShuttingDown: (.none, .draining),
            .shutdown: (.write, .draining), .idleTimeout: close, .forceClose: close,
        ],
        .closed: [
            .bytesRead: (.none, .closed), .peerClosed: (.none, .closed),
            .readFailed: (.none, .closed), .inputOverLimit: (.none, .closed), .writable: (.none, .closed),
            .drained: (.none, .closed), .partlyWritten: (.none, .closed),
            .writeFailed: (.none, .closed), .watchFailed: (.none, .closed), .yieldTimerFired: (.none, .closed),
            .answered: (.none, .closed), .answeredShuttingDown: (.none, .closed),
            .shutdown: (.none, .closed), .idleTimeout: (.none, .closed), .forceClose: close,
        ],
    ]

    @Test("every input in every state", arguments: [State.reading, .executing, .yielded, .pausedForOutput, .parked, .draining, .closed])
    func transitions(from state: State) {
        let row = Self.table[state]!
        for input in Input.allCases {
            guard let (action, next) = row[input] else {
                Issue.record("no expectation for \(input) in \(state)")
                continue
            }
            var m = Self.machine(in: state)
            #expect(input.apply(&m) == action, "\(input) in \(state)")
            #expect(m.state == next, "\(input) in \(state)")
        }
    }
}
