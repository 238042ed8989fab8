import Coordination
import Synchronization

/// Records every wake-up instead of delivering it.
final class RecordingSink: WakeSink, @unchecked Sendable {
    private let recorded = Mutex<[(WaiterTicket, WakeOutcome)]>([])

    func wake(_ ticket: WaiterTicket, _ outcome: WakeOutcome) {
        recorded.withLock { $0.append((ticket, outcome)) }
    }

    var wakes: [(WaiterTicket, WakeOutcome)] { recorded.withLock { $0 } }

    /// The token granted to `ticket`, if any.
    func grant(for ticket: WaiterTicket) -> UInt64? {
        for (candidate, outcome) in wakes where candidate == ticket {
            if case .granted(let token) = outcome { return token }
        }
        return nil
    }
}

/// A stand-in for a store item.
final class Box {
    let text: String
    init(_ text: String) { self.text = text }
}

func ticket(_ connection: UInt64, _ sequence: UInt64 = 1) -> WaiterTicket {
    WaiterTicket(requester: Requester(worker: 0, connection: connection), sequence: sequence)
}

func key(_ text: String) -> LockKey { LockKey(bytes: Array(text.utf8)) }

/// Identity, outside `#expect` (the macro's expansion of `===` on AnyObject crashes this compiler).
func same(_ lhs: AnyObject?, _ rhs: AnyObject) -> Bool { lhs === rhs }
