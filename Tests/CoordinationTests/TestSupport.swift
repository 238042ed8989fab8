@testable import Coordination
import Dogpile
import Synchronization

/// Records every wake-up instead of delivering it.
final class RecordingSink: WakeSink, @unchecked Sendable {
    private let recorded = Mutex<[Wake<Box>]>([])

    func wake(_ wakes: [Wake<Box>]) {
        recorded.withLock { $0.append(contentsOf: wakes) }
    }

    var wakes: [Wake<Box>] { recorded.withLock { $0 } }

    /// The token granted to `ticket`, if any.
    func grant(for ticket: WaiterTicket) -> UInt64? {
        for wake in wakes where wake.ticket == ticket {
            if case .granted(let token) = wake.outcome { return token }
        }
        return nil
    }

    /// Whether `ticket` was told its wait ran out.
    func timedOut(_ ticket: WaiterTicket) -> Bool {
        wakes.contains { wake in
            if wake.ticket == ticket, case .timedOut = wake.outcome { return true }
            return false
        }
    }
}

/// Time that moves only when a test says so.
final class ManualClock: MillisecondClock {
    private let reading: Atomic<Int64>
    init(_ start: Int64 = 1_000_000) { reading = Atomic(start) }
    func now() -> Int64 { reading.load(ordering: .relaxed) }
    func advance(_ milliseconds: Int64) { reading.add(milliseconds, ordering: .relaxed) }
}

/// A stand-in for a store item.
final class Box {
    let text: String
    init(_ text: String) { self.text = text }
}

func ticket(_ connection: UInt64, _ sequence: UInt64 = 1) -> WaiterTicket {
    WaiterTicket(requester: Requester(worker: 0, connection: connection), sequence: sequence)
}

func requester(_ connection: UInt64) -> Requester { Requester(worker: 0, connection: connection) }

func key(_ text: String) -> LockKey { LockKey(bytes: Array(text.utf8)) }

/// Identity, outside `#expect` (the macro's expansion of `===` on AnyObject crashes this compiler).
func same(_ lhs: AnyObject?, _ rhs: AnyObject) -> Bool { lhs === rhs }

/// A lease table and a mutex table sharing one context on a manual clock.
struct Harness {
    let sink = RecordingSink()
    let clock = ManualClock()
    let budget: LockBudget
    let statistics = CoordinationStatistics()
    let leases: LeaseTable<Box>
    let mutexes: MutexTable<Box>

    init(limit: Int = 100, tokens: UInt64 = 1000) {
        budget = LockBudget(limit: limit)
        let context = LockTableContext(
            tokens: FencingTokens(start: tokens), budget: budget, statistics: statistics, clock: clock, sink: sink)
        leases = LeaseTable(context: context)
        mutexes = MutexTable(context: context)
    }

    var now: Int64 { clock.now() }

    func lockgen(
        _ name: String, _ who: WaiterTicket, state: GenerationDecision.ValueState = .missing, value: Box? = nil,
        wait: Int = 1000, lease: Int = 1000, arrival: Int64? = nil
    ) -> LockgenOutcome<Box> {
        leases.lockgen(key(name), requester: who.requester, ticket: who, arrival: arrival, leaseMilliseconds: lease, waitMilliseconds: wait) {
            (state, value)
        }
    }

    func lock(_ name: String, _ who: WaiterTicket, _ mode: NamedMutex.Mode = .exclusive, wait: Int = 1000, lease: Int = 1000, arrival: Int64? = nil) -> MutexOutcome {
        mutexes.lock(key(name), mode: mode, requester: who.requester, ticket: who, arrival: arrival, leaseMilliseconds: lease, waitMilliseconds: wait)
    }

    /// Both tables' index and timers agree with their entries.
    var booksBalance: Bool { leases.booksBalance() && mutexes.booksBalance() }
}
