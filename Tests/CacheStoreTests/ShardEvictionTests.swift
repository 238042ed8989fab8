import Dogpile
import CacheStore
import Testing

/// The memory budget, LRU eviction and the counters, through ``Store``'s public API.
@Suite("Store: memory limit and LRU")
struct ShardEvictionTests {
    /// Every key in these tests is `key` + 4 digits.
    static func key(_ index: Int) -> String {
        let digits = String(index)
        return "key" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static let value = String(repeating: "v", count: 100)
    static let footprint = Item.footprint(keyCount: 7, valueCount: 100)

    @Test func bytesUsedCountsFootprints() {
        let s = TestStore()
        for i in 0..<100 { s.set(Self.key(i), Self.value) }
        #expect(s.store.bytesUsed == 100 * Self.footprint)
        #expect(s.statistics.bytes == s.store.bytesUsed)
        s.set(Self.key(0), "x")
        #expect(s.store.bytesUsed == 99 * Self.footprint + Item.footprint(keyCount: 7, valueCount: 1))
        s.delete(Self.key(1))
        #expect(s.store.bytesUsed == 98 * Self.footprint + Item.footprint(keyCount: 7, valueCount: 1))
        #expect(s.statistics.bytes == s.store.bytesUsed)
    }

    @Test func neverExceedsTheLimit() {
        let limit = 1024 * 1024
        let s = TestStore(memoryLimit: limit)
        var random = SplitMix64(seed: 1)
        var largest = 0
        for i in 0..<20_000 {
            let size = Int.random(in: 0...2000, using: &random)
            largest = max(largest, Item.footprint(keyCount: 7, valueCount: size))
            #expect(s.store(.set, Self.key(i % 10_000), [UInt8](repeating: 0x61, count: size)) == .stored)
            if s.store.bytesUsed > limit {
                Issue.record("bytesUsed \(s.store.bytesUsed) over the limit after store \(i)")
                break
            }
        }
        #expect(s.store.bytesUsed > limit - 2 * largest)
        let stats = s.statistics
        #expect(stats.bytes == s.store.bytesUsed)
        #expect(stats.evictions > 0)
        #expect(stats.evictedUnfetched == stats.evictions)
        #expect(stats.totalItems == 20_000)
        // What survived is readable and intact.
        var found = 0
        for i in 0..<10_000 where s.get(Self.key(i)) != nil { found += 1 }
        #expect(found == stats.currentItems)
    }

    @Test func evictionCountsWithOneShard() {
        let s = TestStore(memoryLimit: 100 * Self.footprint, shardCount: 1)
        for i in 0..<150 { s.set(Self.key(i), Self.value) }
        let stats = s.statistics
        #expect(stats.currentItems == 100)
        #expect(stats.evictions == 50)
        #expect(stats.totalItems == 150)
        #expect(s.store.bytesUsed == 100 * Self.footprint)
        // Oldest first.
        #expect((0..<50).allSatisfy { s.get(Self.key($0)) == nil })
        #expect((50..<150).allSatisfy { s.get(Self.key($0)) != nil })
    }

    @Test func recentlyReadItemsSurvive() {
        let s = TestStore(memoryLimit: 100 * Self.footprint, shardCount: 1)
        for i in 0..<100 { s.set(Self.key(i), Self.value) }
        s.advance(1)
        for i in 0..<10 { #expect(s.get(Self.key(i)) != nil) }
        for i in 100..<110 { s.set(Self.key(i), Self.value) }
        #expect((0..<10).allSatisfy { s.get(Self.key($0)) != nil })
        #expect((10..<20).allSatisfy { s.get(Self.key($0)) == nil })
        #expect((20..<110).allSatisfy { s.get(Self.key($0)) != nil })
        let stats = s.statistics
        #expect(stats.evictions == 10)
        #expect(stats.evictedUnfetched == 10)
    }

    @Test func readsWithinTheSameSecondDoNotBump() {
        let s = TestStore(memoryLimit: 100 * Self.footprint, shardCount: 1)
        for i in 0..<100 { s.set(Self.key(i), Self.value) }
        for i in 0..<10 { #expect(s.get(Self.key(i)) != nil) }
        for i in 100..<110 { s.set(Self.key(i), Self.value) }
        #expect((0..<10).allSatisfy { s.get(Self.key($0)) == nil })
        let stats = s.statistics
        #expect(stats.evictions == 10)
        #expect(stats.evictedUnfetched == 0)
    }

    @Test func touchAndAddBumpToo() {
        let s = TestStore(memoryLimit: 10 * Self.footprint, shardCount: 1)
        for i in 0..<10 { s.set(Self.key(i), Self.value) }
        s.advance(1)
        #expect(s.touch(Self.key(0), 0))
        #expect(s.store(.add, Self.key(1), Self.value) == .notStored)
        s.set(Self.key(10), Self.value)
        s.set(Self.key(11), Self.value)
        #expect(s.get(Self.key(0)) != nil)
        #expect(s.get(Self.key(1)) != nil)
        #expect(s.get(Self.key(2)) == nil)
        #expect(s.get(Self.key(3)) == nil)
    }

    @Test func overwrittenItemsMoveToTheFront() {
        let s = TestStore(memoryLimit: 10 * Self.footprint, shardCount: 1)
        for i in 0..<10 { s.set(Self.key(i), Self.value) }
        s.set(Self.key(0), Self.value)
        s.set(Self.key(10), Self.value)
        #expect(s.get(Self.key(0)) != nil)
        #expect(s.get(Self.key(1)) == nil)
    }

    @Test func expiredItemsAtTheTailAreReclaimedNotEvicted() {
        let s = TestStore(memoryLimit: 20 * Self.footprint, shardCount: 1)
        for i in 0..<10 { s.set(Self.key(i), Self.value, exptime: 1) }
        for i in 10..<20 { s.set(Self.key(i), Self.value) }
        s.advance(2)
        for i in 20..<30 { s.set(Self.key(i), Self.value) }
        let stats = s.statistics
        #expect(stats.reclaimed == 10)
        #expect(stats.expiredUnfetched == 10)
        #expect(stats.evictions == 0)
        #expect(stats.currentItems == 20)
    }

    @Test func evictionDisabledRefusesStores() {
        let s = TestStore(memoryLimit: 10 * Self.footprint, evictionEnabled: false)
        for i in 0..<10 { #expect(s.set(Self.key(i), Self.value) == .stored) }
        #expect(s.set(Self.key(10), Self.value) == .outOfMemory)
        #expect(s.store(.add, Self.key(11), Self.value) == .outOfMemory)
        #expect(s.get(Self.key(10)) == nil)
        // Nothing was evicted; replacing with an item of the same size still fits.
        #expect((0..<10).allSatisfy { s.get(Self.key($0)) != nil })
        #expect(s.set(Self.key(0), Self.value) == .stored)
        #expect(s.store(.append, Self.key(1), String(repeating: "w", count: 100)) == .outOfMemory)
        #expect(s.text(Self.key(1)) == Self.value)
        #expect(s.statistics.evictions == 0)
        #expect(s.store.bytesUsed == 10 * Self.footprint)
        s.delete(Self.key(5))
        #expect(s.set(Self.key(10), Self.value) == .stored)
    }

    @Test func expiredItemsStillCountUntilReclaimed() {
        let s = TestStore(memoryLimit: 10 * Self.footprint, evictionEnabled: false)
        for i in 0..<10 { s.set(Self.key(i), Self.value, exptime: 1) }
        s.advance(1)
        s.store.crawlExpired(bucketsPerShard: 1 << 20)
        #expect(s.store.bytesUsed == 0)
        #expect(s.set(Self.key(10), Self.value) == .stored)
    }

    @Test func loweringTheLimitAtRunTimeEvictsOnTheNextStore() {
        let s = TestStore(memoryLimit: 100 * Self.footprint, shardCount: 4)
        for i in 0..<100 { s.set(Self.key(i), Self.value) }
        s.store.memoryLimit = 50 * Self.footprint
        #expect(s.store.memoryLimit == 50 * Self.footprint)
        s.set(Self.key(100), Self.value)
        #expect(s.store.bytesUsed <= 50 * Self.footprint)
        #expect(s.statistics.currentItems == 50)
    }
}
