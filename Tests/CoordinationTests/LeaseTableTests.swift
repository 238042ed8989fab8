@testable import Coordination
import Dogpile
import Testing

/// The lease table through its public verbs, on a manual clock.
@Suite struct LeaseTableTests {
    @Test func freshValueIsAHitAndTakesNoEntry() {
        let h = Harness()
        guard case .hit(let value) = h.lockgen("k", ticket(1), state: .fresh, value: Box("v")) else {
            Issue.record("expected HIT"); return
        }
        #expect(value.text == "v")
        #expect(h.budget.count == 0)
        #expect(h.statistics.lockgenHits.load(ordering: .relaxed) == 1)
    }

    @Test func missingKeyGrantsOneLeaseAndParksTheOthers() {
        let h = Harness()
        guard case .generate(let token, let stale) = h.lockgen("k", ticket(1)) else {
            Issue.record("expected GEN"); return
        }
        #expect(token == 1001)
        #expect(stale == nil)
        for connection in 2...5 {
            guard case .parked(let next) = h.lockgen("k", ticket(UInt64(connection))) else {
                Issue.record("expected the request to park"); return
            }
            #expect(next == h.now + 1000)
        }
        #expect(h.leases.counts().waiters == 4)
        #expect(h.leases.counts().holds == 1)
        #expect(h.budget.count == 1)
        #expect(h.booksBalance)
    }

    @Test func staleValueGoesToOneRegeneratorAndStaleToTheRest() {
        let h = Harness()
        let old = Box("old")
        guard case .generate(_, let stale) = h.lockgen("k", ticket(1), state: .stale, value: old) else {
            Issue.record("expected GEN"); return
        }
        #expect(same(stale, old))
        guard case .stale(let value) = h.lockgen("k", ticket(2), state: .stale, value: old) else {
            Issue.record("expected STALE"); return
        }
        #expect(same(value, old))
    }

    @Test func aStoreWakesEveryWaiterWithTheValueAndEndsTheEntry() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1))
        _ = h.lockgen("k", ticket(2))
        _ = h.lockgen("k", ticket(3))
        let fresh = Box("new")
        Array("k".utf8).withUnsafeBytes { h.leases.valueStored($0, value: { fresh }) }
        #expect(h.sink.wakes.count == 2)
        for wake in h.sink.wakes {
            guard case .value(let value) = wake.outcome else { Issue.record("expected a value"); continue }
            #expect(same(value, fresh))
            #expect(wake.key == key("k") && wake.kind == .generation)
        }
        #expect(h.budget.count == 0)
        #expect(h.leases.counts().entries == 0)
        #expect(h.booksBalance)
    }

    @Test func setgenNeedsTheLiveTokenAndAFailedStoreChangesNothing() {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1)) else { Issue.record("no GEN"); return }
        _ = h.lockgen("k", ticket(2))
        var stores = 0
        #expect(h.leases.setgen(key("k"), token: token + 1) { _ in stores += 1; return Box("x") } == nil)
        #expect(stores == 0)
        #expect(h.leases.setgen(key("k"), token: token) { _ in stores += 1; return nil } == false)
        #expect(h.leases.counts().holds == 1 && h.leases.counts().waiters == 1)
        #expect(h.sink.wakes.isEmpty)
        #expect(h.leases.setgen(key("k"), token: token) { _ in stores += 1; return Box("x") } == true)
        #expect(stores == 2)
        guard case .value(let value) = h.sink.wakes.first?.outcome else { Issue.record("waiter not served"); return }
        #expect(value.text == "x")
        #expect(h.leases.setgen(key("k"), token: token) { _ in stores += 1; return Box("x") } == nil)
    }

    @Test func unlockgenElectsTheOldestWaiterAlone() {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1)) else { Issue.record("no GEN"); return }
        _ = h.lockgen("k", ticket(2))
        _ = h.lockgen("k", ticket(3))
        #expect(h.leases.unlockgen(key("k"), token: token))
        #expect(h.sink.wakes.count == 1)
        let granted = h.sink.grant(for: ticket(2))
        #expect(granted != nil && granted! > token)
        #expect(h.leases.counts().waiters == 1)
        #expect(!h.leases.unlockgen(key("k"), token: token))
        #expect(h.booksBalance)
    }

    @Test func theHolderNeverWaitsOnItself() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1))
        guard case .busy = h.lockgen("k", ticket(1, 2)) else { Issue.record("expected BUSY"); return }
        guard case .busy = h.lockgen("k", ticket(2), wait: 0) else { Issue.record("wait 0 must be BUSY"); return }
    }

    @Test func anOverdueLeaseElectsTheWaiterFromTheTimers() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1), lease: 60_000)
        guard case .parked(let next) = h.lockgen("k", ticket(2), wait: 100_000) else { Issue.record("expected park"); return }
        #expect(next == h.now + 60_000)
        h.clock.advance(59_999)
        #expect(h.leases.fireTimers() == 0)
        h.clock.advance(1)
        #expect(h.leases.fireTimers() == 1)
        #expect(h.sink.grant(for: ticket(2)) != nil)
        #expect(h.statistics.leasesExpired.load(ordering: .relaxed) == 1)
        #expect(h.leases.checkTimers(key("k"), ticket: ticket(2)) == .answered)
        #expect(h.booksBalance)
    }

    @Test func aWaitRunsOutOnItsOwnTimer() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1), lease: 60_000)
        _ = h.lockgen("k", ticket(2), wait: 5)
        h.clock.advance(4)
        #expect(h.leases.checkTimers(key("k"), ticket: ticket(2)) == .waiting(nextCheck: h.now + 1))
        h.clock.advance(1)
        #expect(h.leases.checkTimers(key("k"), ticket: ticket(2)) == .timedOut)
        #expect(h.sink.wakes.isEmpty)
        #expect(h.leases.counts().waiters == 0)
        #expect(h.statistics.lockgenTimeouts.load(ordering: .relaxed) == 1)
        #expect(h.booksBalance)
    }

    @Test func aWaitRunsOutFromTheTableTimersToo() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1), lease: 60_000)
        _ = h.lockgen("k", ticket(2), wait: 5)
        h.clock.advance(5)
        #expect(h.leases.fireTimers() == 1)
        #expect(h.sink.timedOut(ticket(2)))
        #expect(h.leases.counts().waiters == 0)
    }

    /// Item 11: the wait runs out at the very moment the lease does: `BUSY`, never the lease.
    @Test func aWaiterWhoseWaitEndsAsTheLeaseEndsGetsBusyNotTheLease() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1), lease: 100)
        _ = h.lockgen("k", ticket(2), wait: 100)
        _ = h.lockgen("k", ticket(3), wait: 10_000)
        h.clock.advance(100)
        h.leases.fireTimers()
        #expect(h.sink.timedOut(ticket(2)))
        #expect(h.sink.grant(for: ticket(2)) == nil)
        #expect(h.sink.grant(for: ticket(3)) != nil)
        #expect(h.booksBalance)
    }

    /// Item 11: a late `unlockgen` (the waiter's timer has not run yet) skips overdue waiters.
    @Test func anUnlockAfterTheWaitRanOutDoesNotGrantTheOverdueWaiter() {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1), lease: 60_000) else { Issue.record("no GEN"); return }
        _ = h.lockgen("k", ticket(2), wait: 50)
        h.clock.advance(70)
        #expect(h.leases.unlockgen(key("k"), token: token))
        #expect(h.sink.grant(for: ticket(2)) == nil)
        #expect(h.sink.timedOut(ticket(2)))
        #expect(h.leases.counts().entries == 0)
    }

    /// Item 11: the wait counts from the request's arrival, not from when it ran.
    @Test func theWaitCountsFromArrival() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1), lease: 60_000)
        guard case .parked(let next) = h.lockgen("k", ticket(2), wait: 300, arrival: h.now - 200) else {
            Issue.record("expected park"); return
        }
        #expect(next == h.now + 100)
        guard case .busy = h.lockgen("k", ticket(3), wait: 300, arrival: h.now - 300) else {
            Issue.record("a request whose wait passed before it ran must not wait"); return
        }
    }

    @Test func aClosedHoldersLeaseGoesToTheNextWaiter() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1))
        _ = h.lockgen("k", ticket(2))
        h.leases.connectionClosed(requester(1))
        #expect(h.sink.grant(for: ticket(2)) != nil)
        #expect(h.booksBalance)
    }

    @Test func aClosedWaiterLeavesTheQueueUnanswered() {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1)) else { Issue.record("no GEN"); return }
        _ = h.lockgen("k", ticket(2))
        _ = h.lockgen("k", ticket(3))
        h.leases.connectionClosed(requester(2))
        #expect(h.sink.wakes.isEmpty)
        #expect(h.leases.unlockgen(key("k"), token: token))
        #expect(h.sink.grant(for: ticket(3)) != nil)
        #expect(h.booksBalance)
    }

    @Test func theBudgetBoundsEntries() {
        let h = Harness(limit: 2)
        _ = h.lockgen("a", ticket(1))
        _ = h.lockgen("b", ticket(1))
        guard case .tooManyLocks = h.lockgen("c", ticket(1)) else { Issue.record("expected too many locks"); return }
        #expect(h.budget.count == 2)
        #expect(h.booksBalance)
    }

    @Test func endLeasesElectsOnEveryMatchingKey() {
        let h = Harness()
        _ = h.lockgen("a:1", ticket(1))
        _ = h.lockgen("a:1", ticket(2))
        _ = h.lockgen("b:1", ticket(1))
        h.leases.endLeases { $0.bytes.first == UInt8(ascii: "a") }
        #expect(h.sink.grant(for: ticket(2)) != nil)
        #expect(h.leases.counts().holds == 2)
        #expect(h.booksBalance)
    }

    @Test func shutdownAnswersEveryWaiterAndAdmitsNoOne() {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1)) else { Issue.record("no GEN"); return }
        _ = h.lockgen("k", ticket(2))
        h.leases.shutdown()
        guard case .shuttingDown = h.sink.wakes.first?.outcome else { Issue.record("expected shutting down"); return }
        guard case .shuttingDown = h.lockgen("j", ticket(3)) else { Issue.record("no new lease after shutdown"); return }
        // Releasing still works, and elects nobody.
        #expect(h.leases.unlockgen(key("k"), token: token))
        #expect(h.sink.wakes.count == 1)
        #expect(h.leases.counts().entries == 0)
    }
}
