import CacheStore
import Testing

/// `stats items` figures per memcached slab class, and the dumps and resize built on the store.
@Suite("Store: memcached classes, dumps, resize")
struct StoreClassFiguresTests {
    @Test func itemsAreCountedUnderMemcachedClasses() {
        let s = TestStore()
        s.set("a", "x")  // 48 + 1 + 1 + 1 + 2 + 8 = 61 bytes: class 1 (96)
        s.set("b", String(repeating: "v", count: 600))  // 660 bytes: class 10
        var classes = s.statistics.classes
        #expect(classes[1].number == 1 && classes[1].memoryRequested == 61)
        #expect(classes[10].number == 1 && classes[10].memoryRequested == 660)
        s.delete("b")
        classes = s.statistics.classes
        #expect(classes[10].number == 0 && classes[10].memoryRequested == 0)
        #expect(classes.reduce(0) { $0 + $1.number } == 1)
    }

    @Test func evictionsAndReclaimsAreCountedPerClass() {
        let s = TestStore(memoryLimit: 64 * 1024, shardCount: 1)
        for index in 0..<100 { s.set("k\(index)", String(repeating: "v", count: 1000)) }
        let classes = s.statistics.classes
        let id = MemcachedSlabClasses.classID(forTotal: 48 + 3 + 1 + 1000 + 2 + 8)
        #expect(classes[id].evicted > 0 && classes[id].evicted == s.statistics.evictions)
        #expect(classes[id].evictedUnfetched == classes[id].evicted)
        s.set("short", "v", exptime: 1)
        s.advance(2)
        #expect(s.get("short") == nil)
        #expect(s.statistics.classes[1].reclaimed == 1)
    }

    @Test func resizeEvictsOldestFirstUntilItFits() {
        let s = TestStore(memoryLimit: 1024 * 1024, shardCount: 4)
        for index in 0..<100 {
            s.set("k\(index)", String(repeating: "v", count: 5000))
            s.advance(1)
        }
        let evicted = s.store.resize(to: 100 * 1024)
        #expect(evicted > 70)
        #expect(s.store.bytesUsed <= 100 * 1024)
        #expect(s.get("k99") != nil)
        #expect(s.get("k0") == nil)
        #expect(s.store.memoryLimit == 100 * 1024)
    }

    @Test func dumpsListEveryLiveItemOnce() {
        let s = TestStore(shardCount: 4)
        for index in 0..<1000 { s.set("k\(index)", "v") }
        s.set("gone", "v", exptime: 1)
        s.advance(2)
        var keys: [String] = []
        for shard in 0..<s.store.shardCount {
            var bucket: Int? = 0
            while let start = bucket {
                let (entries, next) = s.store.dumpEntries(shard: shard, fromBucket: start, maximum: 7) { _ in true }
                keys += entries.map { String(decoding: $0.key, as: UTF8.self) }
                bucket = next
            }
        }
        #expect(keys.count == 1000 && Set(keys).count == 1000 && !keys.contains("gone"))
        var recent: [String] = []
        s.store.forEachRecentEntry { entry in
            recent.append(String(decoding: entry.key, as: UTF8.self))
            return recent.count < 10
        }
        #expect(recent.count == 10)
    }
}
