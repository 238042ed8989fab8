import Dogpile
import CacheStore
import Foundation
import Testing

/// Counters, the expiry crawler, stale copies and a concurrency smoke test.
@Suite("Store: statistics, crawler, concurrency")
struct StoreMaintenanceTests {
    @Test func freshStoreIsEmpty() {
        let stats = TestStore().statistics
        #expect(stats.currentItems == 0)
        #expect(stats.bytes == 0)
        #expect(stats.totalItems == 0)
        #expect(stats.evictions == 0)
        #expect(stats.reclaimed == 0)
        #expect(stats.expiredUnfetched == 0)
        #expect(stats.evictedUnfetched == 0)
    }

    @Test func totalItemsCountsEveryLink() {
        let s = TestStore()
        s.set("a", "1")
        s.set("a", "2")
        s.store(.append, "a", "3")
        _ = s.incr("a", 1)
        s.store(.add, "a", "x")  // not stored
        s.set("b", "1")
        s.delete("b")
        let stats = s.statistics
        #expect(stats.totalItems == 5)
        #expect(stats.currentItems == 1)
    }

    @Test func lazyExpiryIsCountedAsReclaimed() {
        let s = TestStore()
        s.set("read", "v", exptime: 1)
        s.set("unread", "v", exptime: 1)
        #expect(s.get("read") != nil)
        s.advance(1)
        #expect(s.get("read") == nil)
        #expect(s.get("unread") == nil)
        let stats = s.statistics
        #expect(stats.reclaimed == 2)
        #expect(stats.expiredUnfetched == 1)
        #expect(stats.currentItems == 0)
        #expect(stats.bytes == 0)
    }

    @Test func lazilyReclaimedItemsFreeTheirMemory() {
        // Memory of items removed by lazy expiry must be usable again: with eviction off, the
        // store must accept as many new items as the expired ones it dropped.
        let s = TestStore(memoryLimit: 64 * 1024, evictionEnabled: false)
        let value = String(repeating: "v", count: 1000)
        var stored = 0
        while s.set("old\(stored)", value, exptime: 1) == .stored { stored += 1 }
        #expect(stored > 50)
        s.advance(1)
        for i in 0..<stored { #expect(s.get("old\(i)") == nil) }
        #expect(s.statistics.currentItems == 0)
        for i in 0..<stored { #expect(s.set("new\(i)", value) == .stored) }
    }

    @Test func crawlerRemovesExpiredItems() {
        let s = TestStore()
        for i in 0..<1000 { s.set("short\(i)", "v", exptime: 1) }
        for i in 0..<1000 { s.set("long\(i)", "v", exptime: 100) }
        let longBytes = (0..<1000).reduce(0) { $0 + 27 + 1 + 1 + "long\($1)".utf8.count + 1 }
        s.store.crawlExpired(bucketsPerShard: 1 << 20)
        #expect(s.statistics.currentItems == 2000)
        s.advance(1)
        s.store.crawlExpired(bucketsPerShard: 1 << 20)
        let stats = s.statistics
        #expect(stats.currentItems == 1000)
        #expect(stats.reclaimed == 1000)
        #expect(stats.expiredUnfetched == 1000)
        #expect(stats.bytes == longBytes)
        #expect((0..<1000).allSatisfy { s.get("long\($0)") != nil })
    }

    @Test func crawlerWithTheDefaultBudgetCoversEverythingEventually() {
        let s = TestStore(shardCount: 1)
        for i in 0..<5000 { s.set("k\(i)", "v", exptime: 1) }
        s.advance(1)
        for _ in 0..<200 { s.store.crawlExpired() }
        #expect(s.statistics.currentItems == 0)
        #expect(s.statistics.bytes == 0)
    }

    // MARK: - Stale copies (dogpiled's extension): invisible to the classic verbs

    @Test func staleCopiesAreInvisibleButKeptUntilTheirWindowEnds() {
        let s = TestStore(staleTTL: 60)
        #expect(s.store.staleTTL == 60)
        s.set("k", "v", exptime: 1)
        s.advance(1)
        #expect(s.get("k") == nil)
        #expect(s.incr("k", 1) == .notFound)
        #expect(s.store(.replace, "k", "x") == .notStored)
        s.store.crawlExpired(bucketsPerShard: 1 << 20)
        #expect(s.statistics.currentItems == 1)
        s.advance(60)
        s.store.crawlExpired(bucketsPerShard: 1 << 20)
        #expect(s.statistics.currentItems == 0)
        #expect(s.statistics.bytes == 0)
    }

    @Test func aStoreReplacesAStaleCopy() {
        let s = TestStore(staleTTL: 60)
        s.set("k", "old", exptime: 1)
        s.advance(1)
        #expect(s.store(.add, "k", "new") == .stored)
        #expect(s.text("k") == "new")
        #expect(s.statistics.currentItems == 1)
        #expect(s.statistics.bytes == 27 + 1 + 1 + 1 + 3)
    }

    // MARK: - Concurrency

    @Test func concurrentRandomTrafficKeepsConsistentCounters() {
        let s = TestStore(memoryLimit: 64 * 1024 * 1024)
        runTraffic(on: s, threads: 4, keys: 1000, seconds: 1.0)
        var found = 0
        for i in 0..<1000 where s.get("key\(i)") != nil { found += 1 }
        let stats = s.statistics
        #expect(stats.currentItems == found)
        #expect(stats.bytes <= s.store.bytesUsed)
        #expect(stats.evictions == 0)
    }

    @Test func concurrentTrafficUnderMemoryPressure() {
        let limit = 256 * 1024
        let s = TestStore(memoryLimit: limit, shardCount: 8)
        runTraffic(on: s, threads: 4, keys: 5000, seconds: 1.0, valueSizes: 100...1000)
        let stats = s.statistics
        #expect(stats.bytes <= s.store.bytesUsed)
        #expect(stats.evictions > 0)
        // Segments are reserved against the limit atomically: never over, even concurrently.
        #expect(s.store.bytesUsed <= limit)
        var found = 0
        for i in 0..<5000 where s.get("key\(i)") != nil { found += 1 }
        #expect(stats.currentItems == found)
        // One more store in a quiet store brings it back under the limit.
        s.set("key0", "x")
        #expect(s.store.bytesUsed <= limit)
    }

    /// Random set/get/delete/incr/touch from `threads` threads for about `seconds`; every value
    /// read back must be one a writer could have written for that key.
    private func runTraffic(on s: TestStore, threads: Int, keys: Int, seconds: Double,
                            valueSizes: ClosedRange<Int> = 1...64) {
        let deadline = Date().addingTimeInterval(seconds)
        let corrupted = NSLock()
        nonisolated(unsafe) var bad = 0
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var random = SplitMix64(seed: UInt64(thread + 1))
            var operations = 0
            while operations % 256 != 0 || Date() < deadline {
                operations += 1
                let index = Int(random.next() % UInt64(keys))
                let key = "key\(index)"
                switch random.next() % 10 {
                case 0...3:
                    let size = Int.random(in: valueSizes, using: &random)
                    // Values are the key's index repeated, so a torn or misfiled value shows.
                    let byte = UInt8(0x61 + index % 26)
                    s.store(.set, key, [UInt8](repeating: byte, count: size))
                case 4...7:
                    if let hit = s.get(key), !hit.value.allSatisfy({ $0 == UInt8(0x61 + index % 26) }) {
                        corrupted.lock(); bad += 1; corrupted.unlock()
                    }
                case 8:
                    s.delete(key)
                default:
                    _ = s.touch(key, 1000)
                }
            }
        }
        #expect(bad == 0)
    }
}
