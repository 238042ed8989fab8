@testable import Coordination
import Dogpile
import Testing

/// GenerationLease's cached earliest waiter deadline, checked against a scan of its waiters
/// after every event of a random workload (booksBalance compares the timers with the cached
/// `nextDeadline`, so it cannot see the cache go stale).
@Suite struct EarliestDeadlineCacheTests {
    func scanned(_ entry: GenerationLease) -> Int64? {
        var earliest = entry.lease?.expiresAt
        for waiter in entry.waiters where earliest == nil || waiter.deadline < earliest! { earliest = waiter.deadline }
        return earliest
    }

    func cacheMatches(_ h: Harness) -> Bool {
        h.leases.shards.allSatisfy { shard in
            shard.withLock { shard in
                shard.entries.values.allSatisfy { $0.nextDeadline == scanned($0) }
            }
        }
    }

    @Test(arguments: 0..<20) func randomWorkload(seed: Int) {
        let h = Harness(limit: 10_000)
        var generator = SplitMix64(seed: UInt64(seed))
        var tokens: [String: [UInt64]] = [:]
        for step in 0..<3000 {
            let name = "k\(Int.random(in: 0..<4, using: &generator))"
            let who = ticket(UInt64.random(in: 1...12, using: &generator), UInt64(step))
            switch Int.random(in: 0..<11, using: &generator) {
            case 0, 1, 2:
                if case .generate(let t, _) = h.lockgen(name, who, wait: Int.random(in: 1...60, using: &generator),
                                                        lease: Int.random(in: 1...60, using: &generator)) {
                    tokens[name, default: []].append(t)
                }
            case 3: if let t = tokens[name]?.popLast() { _ = h.leases.unlockgen(key(name), token: t) }
            case 4: Array(name.utf8).withUnsafeBytes { h.leases.valueStored($0, value: { Box("v") }) }
            case 5: Array(name.utf8).withUnsafeBytes { h.leases.endLease($0) }
            case 6: h.leases.connectionClosed(who.requester)
            case 7: _ = h.leases.claimMetaWin(key(name), requester: who.requester, leaseMilliseconds: 40)
            case 8: h.clock.advance(Int64.random(in: 0...20, using: &generator))
            case 9: if let t = tokens[name]?.popLast() { _ = h.leases.setgen(key(name), token: t) { _ in Box("s") } }
            default: h.leases.fireTimers()
            }
            if !cacheMatches(h) { Issue.record("stale cached deadline after step \(step)"); return }
            if !h.booksBalance { Issue.record("books out of balance after step \(step)"); return }
        }
    }
}
