import Coordination
import Dogpile
import Testing

@Suite struct LeaseTableTests {
    let sink = RecordingSink()
    let budget = LockBudget(limit: 100)
    let statistics = CoordinationStatistics()
    var table: LeaseTable { LeaseTable(context: LockTableContext(tokens: FencingTokens(start: 1000), budget: budget, statistics: statistics, sink: sink)) }

    func lockgen(_ table: LeaseTable, _ name: String, _ who: WaiterTicket, state: GenerationDecision.ValueState = .missing, value: Box? = nil, wait: Int = 1000, lease: Int = 1000) -> LeaseTable.LockgenOutcome {
        table.lockgen(key(name), requester: who.requester, ticket: who, leaseMilliseconds: lease, waitMilliseconds: wait) { (state, value) }
    }

    @Test func freshValueIsAHitAndTakesNoEntry() {
        let table = table
        guard case .hit(let value) = lockgen(table, "k", ticket(1), state: .fresh, value: Box("v")) else {
            Issue.record("expected HIT"); return
        }
        #expect((value as? Box)?.text == "v")
        #expect(budget.count == 0)
    }

    @Test func missingKeyGrantsOneLeaseAndParksTheOthers() {
        let table = table
        guard case .generate(let token, let stale) = lockgen(table, "k", ticket(1)) else {
            Issue.record("expected GEN"); return
        }
        #expect(token == 1001)
        #expect(stale == nil)
        for connection in 2...5 {
            guard case .parked = lockgen(table, "k", ticket(UInt64(connection))) else {
                Issue.record("expected the request to park"); return
            }
        }
        #expect(table.counts().waiters == 4)
        #expect(budget.count == 1)
    }

    @Test func staleValueGoesToOneRegeneratorAndStaleToTheRest() {
        let table = table
        let old = Box("old")
        guard case .generate(_, let stale) = lockgen(table, "k", ticket(1), state: .stale, value: old) else {
            Issue.record("expected GEN"); return
        }
        #expect(same(stale, old))
        guard case .stale(let value) = lockgen(table, "k", ticket(2), state: .stale, value: old) else {
            Issue.record("expected STALE"); return
        }
        #expect(same(value, old))
    }

    @Test func aStoreWakesEveryWaiterWithTheValueAndEndsTheEntry() {
        let table = table
        _ = lockgen(table, "k", ticket(1))
        _ = lockgen(table, "k", ticket(2))
        _ = lockgen(table, "k", ticket(3))
        let fresh = Box("new")
        Array("k".utf8).withUnsafeBytes { table.valueStored($0, value: fresh) }
        #expect(sink.wakes.count == 2)
        for (_, outcome) in sink.wakes {
            guard case .value(let value) = outcome else { Issue.record("expected a value"); continue }
            #expect(same(value, fresh))
        }
        #expect(budget.count == 0)
        #expect(table.counts().entries == 0)
    }

    @Test func setgenNeedsTheLiveToken() {
        let table = table
        guard case .generate(let token, _) = lockgen(table, "k", ticket(1)) else { Issue.record("no GEN"); return }
        var stores = 0
        #expect(table.setgen(key("k"), token: token + 1) { _ in stores += 1; return Box("x") } == nil)
        #expect(stores == 0)
        #expect(table.setgen(key("k"), token: token) { _ in stores += 1; return Box("x") } == true)
        #expect(stores == 1)
        #expect(table.setgen(key("k"), token: token) { _ in stores += 1; return Box("x") } == nil)
    }

    @Test func unlockgenElectsTheOldestWaiterAlone() {
        let table = table
        guard case .generate(let token, _) = lockgen(table, "k", ticket(1)) else { Issue.record("no GEN"); return }
        _ = lockgen(table, "k", ticket(2))
        _ = lockgen(table, "k", ticket(3))
        #expect(table.unlockgen(key("k"), token: token))
        #expect(sink.wakes.count == 1)
        let granted = sink.grant(for: ticket(2))
        #expect(granted != nil && granted! > token)
        #expect(table.counts().waiters == 1)
        #expect(!table.unlockgen(key("k"), token: token))
    }

    @Test func theHolderNeverWaitsOnItself() {
        let table = table
        _ = lockgen(table, "k", ticket(1))
        guard case .busy = lockgen(table, "k", ticket(1, 2)) else { Issue.record("expected BUSY"); return }
        guard case .busy = lockgen(table, "k", ticket(2), wait: 0) else { Issue.record("wait 0 must be BUSY"); return }
    }

    @Test func anOverdueLeaseElectsTheWaiterOnItsTimer() {
        let table = table
        _ = lockgen(table, "k", ticket(1), lease: 60_000)
        guard case .parked = lockgen(table, "k", ticket(2), wait: 10_000) else { Issue.record("expected park"); return }
        let later = MonotonicClock.milliseconds() + 60_001
        #expect(table.checkTimers(key("k"), ticket: ticket(2), now: later) == .answered)
        #expect(sink.grant(for: ticket(2)) != nil)
        #expect(statistics.leasesExpired.load(ordering: .relaxed) == 1)
    }

    @Test func aWaitRunsOut() {
        let table = table
        _ = lockgen(table, "k", ticket(1), lease: 60_000)
        _ = lockgen(table, "k", ticket(2), wait: 1)
        let later = MonotonicClock.milliseconds() + 5
        #expect(table.checkTimers(key("k"), ticket: ticket(2), now: later) == .timedOut)
        #expect(table.counts().waiters == 0)
    }

    @Test func aClosedHoldersLeaseGoesToTheNextWaiter() {
        let table = table
        _ = lockgen(table, "k", ticket(1))
        _ = lockgen(table, "k", ticket(2))
        table.connectionClosed(Requester(worker: 0, connection: 1))
        #expect(sink.grant(for: ticket(2)) != nil)
    }

    @Test func theBudgetBoundsEntries() {
        let small = LockBudget(limit: 2)
        let table = LeaseTable(context: LockTableContext(tokens: FencingTokens(start: 1), budget: small, statistics: statistics, sink: sink))
        _ = lockgen(table, "a", ticket(1))
        _ = lockgen(table, "b", ticket(1))
        guard case .tooManyLocks = lockgen(table, "c", ticket(1)) else { Issue.record("expected too many locks"); return }
    }

    @Test func shutdownAnswersEveryWaiter() {
        let table = table
        _ = lockgen(table, "k", ticket(1))
        _ = lockgen(table, "k", ticket(2))
        table.shutdown()
        guard case .shuttingDown = sink.wakes.first?.1 else { Issue.record("expected shutting down"); return }
    }
}
