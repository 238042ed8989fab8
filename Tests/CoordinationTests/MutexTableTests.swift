import Coordination
import Testing

@Suite struct MutexTableTests {
    let sink = RecordingSink()
    let budget = LockBudget(limit: 100)
    let statistics = CoordinationStatistics()

    func makeTable() -> MutexTable {
        MutexTable(context: LockTableContext(tokens: FencingTokens(start: 1), budget: budget, statistics: statistics, sink: sink))
    }

    func lock(_ table: MutexTable, _ who: WaiterTicket, _ mode: MutexTable.Mode = .exclusive, wait: Int = 1000, lease: Int = 1000) -> MutexTable.LockOutcome {
        table.lock(key("m"), mode: mode, requester: who.requester, ticket: who, leaseMilliseconds: lease, waitMilliseconds: wait)
    }

    @Test func exclusiveHoldersExcludeEachOther() {
        let table = makeTable()
        #expect(lock(table, ticket(1)) == .locked(token: 2))
        #expect(lock(table, ticket(2), wait: 0) == .busy)
        guard case .parked = lock(table, ticket(3)) else { Issue.record("expected park"); return }
        #expect(table.unlock(key("m"), token: 2))
        #expect(sink.grant(for: ticket(3)) == 3)
        #expect(!table.unlock(key("m"), token: 2))
    }

    @Test func readersShareAndAWaitingWriterStopsNewReaders() {
        let table = makeTable()
        guard case .locked(let first) = lock(table, ticket(1), .shared),
              case .locked(let second) = lock(table, ticket(2), .shared) else { Issue.record("readers must share"); return }
        guard case .parked = lock(table, ticket(3), .exclusive) else { Issue.record("writer must wait"); return }
        guard case .parked = lock(table, ticket(4), .shared) else { Issue.record("a reader after a waiting writer must wait"); return }
        #expect(table.unlock(key("m"), token: first))
        #expect(sink.wakes.isEmpty)
        #expect(table.unlock(key("m"), token: second))
        let writer = sink.grant(for: ticket(3))
        #expect(writer != nil)
        #expect(sink.grant(for: ticket(4)) == nil)
        #expect(table.unlock(key("m"), token: writer!))
        #expect(sink.grant(for: ticket(4)) != nil)
    }

    @Test func noReentry() {
        let table = makeTable()
        _ = lock(table, ticket(1), .shared)
        #expect(lock(table, ticket(1, 2), .exclusive) == .busy)
        #expect(lock(table, ticket(1, 3), .shared) == .busy)
    }

    @Test func renewExtendsOnlyALiveHold() {
        let table = makeTable()
        guard case .locked(let token) = lock(table, ticket(1), lease: 1000) else { Issue.record("no lock"); return }
        #expect(table.renew(key("m"), token: token, leaseMilliseconds: 5000))
        #expect(!table.renew(key("m"), token: token + 1, leaseMilliseconds: 5000))
    }

    @Test func anExpiredHoldLetsTheWaiterIn() {
        let table = makeTable()
        _ = lock(table, ticket(1), lease: 60_000)
        guard case .parked = lock(table, ticket(2), wait: 10_000) else { Issue.record("expected park"); return }
        #expect(table.checkTimers(key("m"), ticket: ticket(2), now: MonotonicClock.milliseconds() + 60_001) == .answered)
        #expect(sink.grant(for: ticket(2)) != nil)
        #expect(statistics.mutexExpired.load(ordering: .relaxed) == 1)
    }

    @Test func closingReleasesHoldsAndWithdrawsWaits() {
        let table = makeTable()
        _ = lock(table, ticket(1))
        _ = lock(table, ticket(2))
        _ = lock(table, ticket(3))
        table.connectionClosed(Requester(worker: 0, connection: 2))
        table.connectionClosed(Requester(worker: 0, connection: 1))
        #expect(sink.grant(for: ticket(3)) != nil)
        #expect(sink.grant(for: ticket(2)) == nil)
    }

    @Test func idleNamesLeaveTheTable() {
        let table = makeTable()
        guard case .locked(let token) = lock(table, ticket(1)) else { Issue.record("no lock"); return }
        #expect(budget.count == 1)
        #expect(table.unlock(key("m"), token: token))
        #expect(budget.count == 0)
        #expect(table.counts().entries == 0)
    }

    @Test func tokensStrictlyIncrease() {
        let table = makeTable()
        var last: UInt64 = 0
        for round in 0..<50 {
            guard case .locked(let token) = lock(table, ticket(UInt64(round))) else { Issue.record("no lock"); return }
            #expect(token > last)
            last = token
            #expect(table.unlock(key("m"), token: token))
        }
    }
}
