@testable import Coordination
import Testing

/// Item 5: closing a connection visits only what it holds or waits for; timers, not sweeps.
@Suite struct OwnershipIndexTests {
    @Test func closingVisitsOnlyTheConnectionsOwnEntries() {
        let h = Harness(limit: 200_000)
        for index in 0..<20_000 {
            guard case .locked = h.lock("other:\(index)", ticket(UInt64(2 + index % 50))) else { Issue.record("no lock"); return }
        }
        _ = h.lock("mine", ticket(1))
        let before = h.mutexes.closeVisits
        h.mutexes.connectionClosed(requester(1))
        #expect(h.mutexes.closeVisits - before == 1)
        #expect(h.mutexes.counts().entries == 20_000)
        h.mutexes.connectionClosed(requester(99))
        #expect(h.mutexes.closeVisits - before == 1)
    }

    @Test func theIndexForgetsWhatWasReleased() {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1)) else { Issue.record("no GEN"); return }
        #expect(h.leases.unlockgen(key("k"), token: token))
        h.leases.connectionClosed(requester(1))
        #expect(h.leases.closeVisits == 0)
    }

    @Test func anElectedWaiterIsIndexedAsTheHolder() {
        let h = Harness()
        guard case .generate(let token, _) = h.lockgen("k", ticket(1)) else { Issue.record("no GEN"); return }
        _ = h.lockgen("k", ticket(2))
        _ = h.lockgen("k", ticket(3))
        #expect(h.leases.unlockgen(key("k"), token: token))
        h.leases.connectionClosed(requester(2))
        #expect(h.sink.grant(for: ticket(3)) != nil)
        #expect(h.leases.closeVisits == 1)
        #expect(h.booksBalance)
    }

    /// A connection parks one request at a time, but the index must not depend on it.
    @Test func twoRolesOnOneKeyLeaveTheIndexOnlyWithTheLast() {
        let h = Harness()
        _ = h.lockgen("k", ticket(1))
        _ = h.lockgen("k", ticket(2, 1), wait: 10)
        _ = h.lockgen("k", ticket(2, 2), wait: 1000)
        h.clock.advance(10)
        h.leases.fireTimers()
        #expect(h.sink.timedOut(ticket(2, 1)))
        #expect(h.booksBalance)
        h.leases.connectionClosed(requester(2))
        #expect(h.leases.closeVisits == 1)
        #expect(h.leases.counts().waiters == 0)
        #expect(h.booksBalance)
    }

    @Test func timersFireOnlyWhatIsDue() {
        let h = Harness(limit: 10_000)
        for index in 0..<1000 {
            _ = h.lock("m\(index)", ticket(UInt64(index)), lease: 1000 + index)
        }
        h.clock.advance(1000)
        #expect(h.mutexes.fireTimers() == 1)
        h.clock.advance(9)
        #expect(h.mutexes.fireTimers() == 9)
        #expect(h.mutexes.counts().entries == 990)
        #expect(h.booksBalance)
    }

    @Test func aRandomWorkloadKeepsTheBooks() {
        let h = Harness(limit: 10_000)
        var generator = SystemRandomNumberGenerator()
        var tokens: [String: [UInt64]] = [:]
        for step in 0..<3000 {
            let name = "k\(Int.random(in: 0..<8, using: &generator))"
            let who = ticket(UInt64.random(in: 1...12, using: &generator), UInt64(step))
            switch Int.random(in: 0..<9, using: &generator) {
            case 0: if case .locked(let t) = h.lock(name, who, .shared, wait: 30, lease: 50) { tokens[name, default: []].append(t) }
            case 1: if case .locked(let t) = h.lock(name, who, wait: 30, lease: 50) { tokens[name, default: []].append(t) }
            case 2: if let t = tokens[name]?.popLast() { _ = h.mutexes.unlock(key(name), token: t) }
            case 3: if case .generate(let t, _) = h.lockgen(name, who, wait: 30, lease: 50) { tokens["g" + name, default: []].append(t) }
            case 4: if let t = tokens["g" + name]?.popLast() { _ = h.leases.unlockgen(key(name), token: t) }
            case 5: Array(name.utf8).withUnsafeBytes { h.leases.valueStored($0, value: { Box("v") }) }
            case 6: h.leases.connectionClosed(who.requester); h.mutexes.connectionClosed(who.requester)
            case 7: h.clock.advance(Int64.random(in: 0...20, using: &generator))
            default: h.leases.fireTimers(); h.mutexes.fireTimers()
            }
            if step % 100 == 0 { #expect(h.booksBalance) }
        }
        #expect(h.booksBalance)
        // Nobody is ever granted after its deadline: every grant's waiter asked within 30 ms.
        h.clock.advance(1000)
        h.leases.fireTimers()
        h.mutexes.fireTimers()
        #expect(h.leases.counts().entries == 0 && h.mutexes.counts().entries == 0)
        #expect(h.budget.count == 0)
    }
}

/// Many threads on one pair of tables: nothing deadlocks, the books balance, and once every
/// connection has closed and time has passed, nothing is left.
@Suite struct ConcurrentTableTests {
    @Test func concurrentConnectionsLeaveNothingBehind() async {
        let h = Harness(limit: 100_000)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    for step in 0..<2000 {
                        let connection = UInt64(worker * 100 + Int.random(in: 0..<10, using: &generator))
                        let who = ticket(connection, UInt64(step))
                        let name = "k\(Int.random(in: 0..<16, using: &generator))"
                        switch Int.random(in: 0..<6, using: &generator) {
                        case 0:
                            if case .locked(let token) = h.lock(name, who, wait: 20, lease: 50) {
                                _ = h.mutexes.unlock(key(name), token: token)
                            }
                        case 1: _ = h.lock(name, who, .shared, wait: 20, lease: 50)
                        case 2:
                            if case .generate(let token, _) = h.lockgen(name, who, wait: 20, lease: 50) {
                                _ = h.leases.setgen(key(name), token: token) { _ in Box("v") }
                            }
                        case 3: Array(name.utf8).withUnsafeBytes { h.leases.valueStored($0, value: { Box("w") }) }
                        case 4: h.leases.connectionClosed(who.requester); h.mutexes.connectionClosed(who.requester)
                        default: h.clock.advance(1); h.leases.fireTimers(); h.mutexes.fireTimers()
                        }
                    }
                }
            }
        }
        #expect(h.booksBalance)
        for worker in 0..<4 {
            for index in 0..<10 {
                h.leases.connectionClosed(requester(UInt64(worker * 100 + index)))
                h.mutexes.connectionClosed(requester(UInt64(worker * 100 + index)))
            }
        }
        h.clock.advance(1000)
        h.leases.fireTimers()
        h.mutexes.fireTimers()
        #expect(h.leases.counts().entries == 0 && h.mutexes.counts().entries == 0)
        #expect(h.budget.count == 0)
    }
}
