import Testing

@testable import DogpiledServer

/// The `-Y` part of the connection's machine: every authentication input in every
/// authentication state.
@Suite("Connection state machine: authentication")
struct AuthenticationTransitionTests {
    typealias Machine = ConnectionStateMachine

    enum Input: CaseIterable {
        case refused, authenticated, batchEnds, overran
    }

    enum Start: CaseIterable {
        case notRequired, awaiting, awaitingWithHeldReply, authenticated
    }

    /// An executing machine (a batch is running) in `start`.
    static func machine(_ start: Start) -> Machine {
        var m = Machine(outputHighWater: 1000, requestsPerEvent: 20, now: 0, requiresAuthentication: start != .notRequired)
        _ = m.bytesRead(now: 0)
        switch start {
        case .notRequired, .awaiting: break
        case .awaitingWithHeldReply: m.refused(.badTokenFormat)
        case .authenticated: m.authenticated()
        }
        return m
    }

    /// start -> input -> (authentication state after, reply taken at the batch end, connection
    /// state after).
    static let table: [Start: [Input: (AuthenticationState, PreAuthenticationReply?, Machine.State)]] = [
        .notRequired: [
            .refused: (.notRequired, nil, .executing), .authenticated: (.notRequired, nil, .executing),
            .batchEnds: (.notRequired, nil, .executing), .overran: (.notRequired, nil, .executing),
        ],
        .awaiting: [
            .refused: (.awaitingCredentials(held: nil), .unauthenticated, .executing),
            .authenticated: (.authenticated, nil, .executing),
            .batchEnds: (.awaitingCredentials(held: nil), nil, .executing),
            .overran: (.awaitingCredentials(held: nil), nil, .closed),
        ],
        .awaitingWithHeldReply: [
            // The new reply replaces the held one: memcached sends only the last.
            .refused: (.awaitingCredentials(held: nil), .unauthenticated, .executing),
            .authenticated: (.authenticated, nil, .executing),
            .batchEnds: (.awaitingCredentials(held: nil), .badTokenFormat, .executing),
            .overran: (.awaitingCredentials(held: nil), nil, .closed),
        ],
        .authenticated: [
            .refused: (.authenticated, nil, .executing), .authenticated: (.authenticated, nil, .executing),
            .batchEnds: (.authenticated, nil, .executing), .overran: (.authenticated, nil, .executing),
        ],
    ]

    @Test("every authentication input in every authentication state", arguments: Start.allCases)
    func transitions(from start: Start) {
        for input in Input.allCases {
            guard let (after, reply, state) = Self.table[start]?[input] else {
                Issue.record("no expectation for \(input) in \(start)")
                continue
            }
            var m = Self.machine(start)
            switch input {
            case .refused: m.refused(.unauthenticated)
            case .authenticated: m.authenticated()
            case .batchEnds: break
            case .overran: m.credentialsOverran()
            }
            #expect(m.takeHeldReply() == reply, "\(input) in \(start)")
            #expect(m.authentication == after, "\(input) in \(start)")
            #expect(m.state == state, "\(input) in \(start)")
            #expect(m.needsCredentials == (after != .notRequired && after != .authenticated))
        }
    }

    @Test("a batch cut short by an overrun closes the connection without a reply")
    func overrunCloses() {
        var m = Self.machine(.awaitingWithHeldReply)
        m.credentialsOverran()
        #expect(m.mayRunNext(executed: 0, queuedOutput: 0) == .stateChanged)
        #expect(m.takeHeldReply() == nil)
        #expect(m.batchEnded(.stateChanged) == .close)
    }
}
