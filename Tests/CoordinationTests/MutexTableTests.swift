@testable import Coordination
import Testing

/// The mutex table through its public verbs, on a manual clock.
@Suite struct MutexTableTests {
    @Test func exclusiveHoldersExcludeEachOther() {
        let h = Harness(tokens: 1)
        #expect(h.lock("m", ticket(1)) == .locked(token: 2))
        #expect(h.lock("m", ticket(2), wait: 0) == .busy)
        guard case .parked = h.lock("m", ticket(3)) else { Issue.record("expected park"); return }
        #expect(h.mutexes.unlock(key("m"), token: 2))
        #expect(h.sink.grant(for: ticket(3)) == 3)
        #expect(h.sink.wakes.first?.kind == .mutex)
        #expect(!h.mutexes.unlock(key("m"), token: 2))
        #expect(h.booksBalance)
    }

    @Test func readersShareAndAWaitingWriterStopsNewReaders() {
        let h = Harness()
        guard case .locked(let first) = h.lock("m", ticket(1), .shared),
              case .locked(let second) = h.lock("m", ticket(2), .shared) else { Issue.record("readers must share"); return }
        guard case .parked = h.lock("m", ticket(3), .exclusive) else { Issue.record("writer must wait"); return }
        guard case .parked = h.lock("m", ticket(4), .shared) else { Issue.record("a reader after a waiting writer must wait"); return }
        #expect(h.mutexes.unlock(key("m"), token: first))
        #expect(h.sink.wakes.isEmpty)
        #expect(h.mutexes.unlock(key("m"), token: second))
        let writer = h.sink.grant(for: ticket(3))
        #expect(writer != nil)
        #expect(h.sink.grant(for: ticket(4)) == nil)
        #expect(h.mutexes.unlock(key("m"), token: writer!))
        #expect(h.sink.grant(for: ticket(4)) != nil)
        #expect(h.booksBalance)
    }

    @Test func aWriterThatGivesUpLetsTheReadersBehindItIn() {
        let h = Harness()
        _ = h.lock("m", ticket(1), .shared)
        _ = h.lock("m", ticket(2), .exclusive, wait: 10)
        _ = h.lock("m", ticket(3), .shared, wait: 1000)
        h.clock.advance(10)
        h.mutexes.fireTimers()
        #expect(h.sink.timedOut(ticket(2)))
        #expect(h.sink.grant(for: ticket(3)) != nil)
        #expect(h.statistics.mutexTimeouts.load(ordering: .relaxed) == 1)
        #expect(h.booksBalance)
    }

    @Test func noReentry() {
        let h = Harness()
        _ = h.lock("m", ticket(1), .shared)
        #expect(h.lock("m", ticket(1, 2), .exclusive) == .busy)
        #expect(h.lock("m", ticket(1, 3), .shared) == .busy)
    }

    @Test func renewExtendsOnlyALiveHold() {
        let h = Harness()
        guard case .locked(let token) = h.lock("m", ticket(1), lease: 1000) else { Issue.record("no lock"); return }
        h.clock.advance(900)
        #expect(h.mutexes.renew(key("m"), token: token, leaseMilliseconds: 5000))
        #expect(!h.mutexes.renew(key("m"), token: token + 1, leaseMilliseconds: 5000))
        h.clock.advance(4999)
        #expect(h.mutexes.fireTimers() == 0)
        h.clock.advance(1)
        #expect(h.mutexes.fireTimers() == 1)
        #expect(!h.mutexes.renew(key("m"), token: token, leaseMilliseconds: 5000))
        #expect(h.statistics.mutexExpired.load(ordering: .relaxed) == 1)
        #expect(h.mutexes.counts().entries == 0)
    }

    @Test func anExpiredHoldLetsTheWaiterIn() {
        let h = Harness()
        _ = h.lock("m", ticket(1), lease: 60_000)
        guard case .parked(let next) = h.lock("m", ticket(2), wait: 100_000) else { Issue.record("expected park"); return }
        #expect(next == h.now + 60_000)
        h.clock.advance(60_000)
        #expect(h.mutexes.checkTimers(key("m"), ticket: ticket(2)) == .answered)
        #expect(h.sink.grant(for: ticket(2)) != nil)
        #expect(h.statistics.mutexExpired.load(ordering: .relaxed) == 1)
        #expect(h.booksBalance)
    }

    /// Item 11 for mutexes: the hold ends as the wait runs out: `BUSY`, not `LOCKED`.
    @Test func aWaiterWhoseWaitEndsAsTheHoldEndsGetsBusy() {
        let h = Harness()
        _ = h.lock("m", ticket(1), lease: 100)
        _ = h.lock("m", ticket(2), wait: 100)
        h.clock.advance(100)
        #expect(h.mutexes.checkTimers(key("m"), ticket: ticket(2)) == .timedOut)
        #expect(h.sink.grant(for: ticket(2)) == nil)
        #expect(h.mutexes.counts().entries == 0)
    }

    @Test func theWaitCountsFromArrival() {
        let h = Harness()
        _ = h.lock("m", ticket(1), lease: 60_000)
        #expect(h.lock("m", ticket(2), wait: 300, arrival: h.now - 200) == .parked(nextCheck: h.now + 100))
        #expect(h.lock("m", ticket(3), wait: 300, arrival: h.now - 300) == .busy)
    }

    @Test func closingReleasesHoldsAndWithdrawsWaits() {
        let h = Harness()
        _ = h.lock("m", ticket(1))
        _ = h.lock("m", ticket(2))
        _ = h.lock("m", ticket(3))
        h.mutexes.connectionClosed(requester(2))
        h.mutexes.connectionClosed(requester(1))
        #expect(h.sink.grant(for: ticket(3)) != nil)
        #expect(h.sink.grant(for: ticket(2)) == nil)
        #expect(h.booksBalance)
    }

    @Test func idleNamesLeaveTheTable() {
        let h = Harness()
        guard case .locked(let token) = h.lock("m", ticket(1)) else { Issue.record("no lock"); return }
        #expect(h.budget.count == 1)
        #expect(h.mutexes.unlock(key("m"), token: token))
        #expect(h.budget.count == 0)
        #expect(h.mutexes.counts().entries == 0)
        #expect(h.booksBalance)
    }

    @Test func tokensStrictlyIncreaseAcrossBothTables() {
        let h = Harness()
        var last: UInt64 = 0
        for round in 0..<50 {
            guard case .locked(let token) = h.lock("m", ticket(UInt64(round))) else { Issue.record("no lock"); return }
            #expect(token > last)
            last = token
            #expect(h.mutexes.unlock(key("m"), token: token))
            guard case .generate(let lease, _) = h.lockgen("k\(round)", ticket(UInt64(round))) else { Issue.record("no GEN"); return }
            #expect(lease > last)
            last = lease
        }
    }

    @Test func shutdownAnswersWaitersAndRefusesNewLocks() {
        let h = Harness()
        _ = h.lock("m", ticket(1))
        _ = h.lock("m", ticket(2))
        h.mutexes.shutdown()
        guard case .shuttingDown = h.sink.wakes.first?.outcome else { Issue.record("expected shutting down"); return }
        #expect(h.lock("n", ticket(3)) == .shuttingDown)
        #expect(h.mutexes.counts().waiters == 0)
    }
}

/// Item 12: a wake-up names its key and table, so a grant that reaches a connection that no
/// longer waits (or no longer exists) is given back at once instead of blocking the queue.
@Suite struct GiveBackTests {
    @Test func aMutexGrantNobodyWantsIsReleasedByItsKeyAndKind() throws {
        let h = Harness()
        guard case .locked(let token) = h.lock("m", ticket(1)) else { Issue.record("no lock"); return }
        _ = h.lock("m", ticket(2))
        _ = h.lock("m", ticket(3))
        #expect(h.mutexes.unlock(key("m"), token: token))
        let wake = try #require(h.sink.wakes.first)
        #expect(wake.ticket == ticket(2) && wake.key == key("m") && wake.kind == .mutex)
        guard case .granted(let granted) = wake.outcome else { Issue.record("expected a grant"); return }
        // What the server does for a connection that no longer waits for ticket 2.
        #expect(h.mutexes.unlock(wake.key, token: granted))
        #expect(h.sink.grant(for: ticket(3)) != nil)
        #expect(h.booksBalance)
    }

    @Test func aLeaseGrantNobodyWantsIsReleasedByItsKeyAndKind() throws {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1)) else { Issue.record("no GEN"); return }
        _ = h.lockgen("k", ticket(2))
        _ = h.lockgen("k", ticket(3))
        #expect(h.leases.unlockgen(key("k"), token: token))
        let wake = try #require(h.sink.wakes.first)
        #expect(wake.kind == .generation && wake.key == key("k"))
        guard case .granted(let granted) = wake.outcome else { Issue.record("expected a grant"); return }
        #expect(h.leases.unlockgen(wake.key, token: granted))
        #expect(h.sink.grant(for: ticket(3)) != nil)
    }
}
