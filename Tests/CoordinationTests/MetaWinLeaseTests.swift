@testable import Coordination
import Dogpile
import Testing

/// `LeaseTable.claimMetaWin`: a meta command's recache win takes the key's generation lease, so
/// lockgen callers wait behind it; a lockgen lease refuses it (the client is told `Z`).
@Suite struct MetaWinLeaseTests {
    func claim(_ h: Harness, _ name: String, _ connection: UInt64, lease: Int = 10_000) -> Bool {
        h.leases.claimMetaWin(key(name), requester: ticket(connection).requester, leaseMilliseconds: lease)
    }

    @Test func lockgenWaitsBehindAMetaWin() {
        let h = Harness()
        #expect(claim(h, "k", 1))
        guard case .parked = h.lockgen("k", ticket(2)) else { Issue.record("expected the request to park"); return }
        #expect(h.statistics.lockgenGen.load(ordering: .relaxed) == 0)
        // The winner's store answers the waiter with the value.
        let value = Box("v")
        Array("k".utf8).withUnsafeBytes { h.leases.valueStored($0, value: { value }) }
        #expect(h.sink.wakes.count == 1)
        #expect(h.budget.count == 0)
    }

    @Test func theWinnersDisconnectElectsTheOldestWaiter() {
        let h = Harness()
        #expect(claim(h, "k", 1))
        _ = h.lockgen("k", ticket(2))
        _ = h.lockgen("k", ticket(3))
        h.leases.connectionClosed(ticket(1).requester)
        #expect(h.sink.grant(for: ticket(2)) != nil)
        #expect(h.sink.grant(for: ticket(3)) == nil)
    }

    @Test func aLockgenLeaseRefusesAnotherConnectionsWin() {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1)) else { Issue.record("expected GEN"); return }
        #expect(!claim(h, "k", 2))
        // The holder's own win keeps its lockgen lease and token.
        #expect(claim(h, "k", 1))
        #expect(h.leases.unlockgen(key("k"), token: token))
    }

    @Test func aLaterMetaWinTakesOverAnEarlierOne() {
        let h = Harness()
        #expect(claim(h, "k", 1))
        #expect(claim(h, "k", 2))
        _ = h.lockgen("k", ticket(3))
        h.leases.connectionClosed(ticket(1).requester)
        #expect(h.sink.wakes.isEmpty)  // connection 2 holds it now
        h.leases.connectionClosed(ticket(2).requester)
        #expect(h.sink.grant(for: ticket(3)) != nil)
    }

    @Test func aMetaWinRunsOutLikeAnyLease() {
        let h = Harness()
        #expect(claim(h, "k", 1, lease: 500))
        _ = h.lockgen("k", ticket(2), wait: 5000)
        h.clock.advance(501)
        h.leases.fireTimers()
        #expect(h.sink.grant(for: ticket(2)) != nil)
    }
}
