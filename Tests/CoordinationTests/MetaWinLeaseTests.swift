import Coordination
import Dogpile
import Synchronization
import Testing

/// `LeaseTable.claimMetaWin`: a meta command's recache win takes the key's generation lease, so
/// lockgen callers wait behind it; a lockgen lease refuses it (the client is told `Z`).
@Suite struct MetaWinLeaseTests {
    let sink = RecordingSink()
    let budget = LockBudget(limit: 100)
    let statistics = CoordinationStatistics()
    var table: LeaseTable { LeaseTable(context: LockTableContext(tokens: FencingTokens(start: 1000), budget: budget, statistics: statistics, sink: sink)) }

    func claim(_ table: LeaseTable, _ name: String, _ connection: UInt64, lease: Int = 10_000) -> Bool {
        table.claimMetaWin(key(name), requester: ticket(connection).requester, leaseMilliseconds: lease)
    }

    func lockgen(_ table: LeaseTable, _ name: String, _ who: WaiterTicket, wait: Int = 1000) -> LeaseTable.LockgenOutcome {
        table.lockgen(key(name), requester: who.requester, ticket: who, leaseMilliseconds: 1000, waitMilliseconds: wait) { (.missing, nil) }
    }

    @Test func lockgenWaitsBehindAMetaWin() {
        let table = table
        #expect(claim(table, "k", 1))
        guard case .parked = lockgen(table, "k", ticket(2)) else { Issue.record("expected the request to park"); return }
        #expect(statistics.lockgenGen.load(ordering: .relaxed) == 0)
        // The winner's store answers the waiter with the value.
        let value = Box("v")
        Array("k".utf8).withUnsafeBytes { table.valueStored($0, value: value) }
        #expect(sink.wakes.count == 1)
        #expect(budget.count == 0)
    }

    @Test func theWinnersDisconnectElectsTheOldestWaiter() {
        let table = table
        #expect(claim(table, "k", 1))
        _ = lockgen(table, "k", ticket(2))
        _ = lockgen(table, "k", ticket(3))
        table.connectionClosed(ticket(1).requester)
        #expect(sink.grant(for: ticket(2)) != nil)
        #expect(sink.grant(for: ticket(3)) == nil)
    }

    @Test func aLockgenLeaseRefusesAnotherConnectionsWin() {
        let table = table
        guard case .generate(let token, _) = lockgen(table, "k", ticket(1)) else { Issue.record("expected GEN"); return }
        #expect(!claim(table, "k", 2))
        // The holder's own win keeps its lockgen lease and token.
        #expect(claim(table, "k", 1))
        #expect(table.unlockgen(key("k"), token: token))
    }

    @Test func aLaterMetaWinTakesOverAnEarlierOne() {
        let table = table
        #expect(claim(table, "k", 1))
        #expect(claim(table, "k", 2))
        _ = lockgen(table, "k", ticket(3))
        table.connectionClosed(ticket(1).requester)
        #expect(sink.wakes.isEmpty)  // connection 2 holds it now
        table.connectionClosed(ticket(2).requester)
        #expect(sink.grant(for: ticket(3)) != nil)
    }
}
