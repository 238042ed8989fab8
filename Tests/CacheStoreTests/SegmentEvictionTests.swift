import Dogpile
import CacheStore
import Testing

/// The memory limit over segments, compaction with a second chance, stale copies first, and
/// the counters, through ``Store``'s public API.
@Suite("Store: memory limit, segments and eviction")
struct SegmentEvictionTests {
    /// Every key in these tests is `key` + 5 digits.
    static func key(_ index: Int) -> String {
        let digits = String(index)
        return "key" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    static let value = String(repeating: "v", count: 100)
    /// 27 fixed bytes, one-byte length and flags, an 8-byte key, 100 bytes of value.
    static let itemSize = 27 + 1 + 1 + 8 + 100
    /// One shard of 64 KiB segments: 1 MiB holds 16 of them.
    static let limit = 1024 * 1024
    static let segmentSize = 64 * 1024

    @Test func layoutFollowsTheLimit() {
        #expect(Store.layout(memoryLimit: 64 << 20, maximumShards: 64) == (1 << 20, 16))
        #expect(Store.layout(memoryLimit: 1 << 30, maximumShards: 64) == (1 << 20, 64))
        #expect(Store.layout(memoryLimit: 16 << 20, maximumShards: 64) == (256 << 10, 16))
        #expect(Store.layout(memoryLimit: 1 << 20, maximumShards: 64) == (64 << 10, 4))
        #expect(Store.layout(memoryLimit: 16 << 10, maximumShards: 64) == (16 << 10, 1))
        #expect(Store.layout(memoryLimit: 0, maximumShards: 64) == (4096, 1))
    }

    @Test func bytesCountItemsAndMemoryCountsSegments() {
        let s = TestStore(memoryLimit: Self.limit, shardCount: 1)
        for i in 0..<100 { s.set(Self.key(i), Self.value) }
        #expect(s.statistics.bytes == 100 * Self.itemSize)
        #expect(s.store.bytesUsed == Self.segmentSize)
        s.set(Self.key(0), "x")
        #expect(s.statistics.bytes == 99 * Self.itemSize + Self.itemSize - 99)
        s.delete(Self.key(1))
        #expect(s.statistics.bytes == 98 * Self.itemSize + Self.itemSize - 99)
        #expect(s.store.bytesUsed == Self.segmentSize)
    }

    @Test func neverExceedsTheLimit() {
        let s = TestStore(memoryLimit: Self.limit)
        var random = SplitMix64(seed: 1)
        for i in 0..<20_000 {
            // Up to 40 KB: items past an eighth of a segment get segments of their own.
            let size = Int.random(in: 0...2000, using: &random) * (i % 50 == 0 ? 20 : 1)
            #expect(s.store(.set, Self.key(i % 10_000), [UInt8](repeating: 0x61, count: size)) == .stored)
            if s.store.bytesUsed > Self.limit {
                Issue.record("bytesUsed \(s.store.bytesUsed) over the limit after store \(i)")
                break
            }
        }
        let stats = s.statistics
        #expect(stats.bytes <= s.store.bytesUsed)
        #expect(stats.evictions > 0)
        #expect(stats.totalItems == 20_000)
        // What survived is readable and intact.
        var found = 0
        for i in 0..<10_000 {
            guard let hit = s.get(Self.key(i)) else { continue }
            found += 1
            #expect(hit.value.allSatisfy { $0 == 0x61 })
        }
        #expect(found == stats.currentItems)
    }

    /// Fills one shard's 16 segments with `count` items, then writes `more` new ones.
    static func fill(_ s: TestStore, count: Int) {
        for i in 0..<count { s.set(Self.key(i), Self.value) }
    }

    @Test func readItemsGetASecondChance() {
        let s = TestStore(memoryLimit: Self.limit, shardCount: 1)
        let perSegment = (Self.segmentSize - 64) / Self.itemSize
        let capacity = 16 * perSegment
        Self.fill(s, count: capacity)
        #expect(s.statistics.evictions == 0)
        // Read every other item of the oldest segment, then push the store past its limit.
        for i in stride(from: 0, to: perSegment, by: 2) { #expect(s.get(Self.key(i)) != nil) }
        for i in capacity..<(capacity + perSegment / 4) { s.set(Self.key(i), Self.value) }
        #expect(stride(from: 0, to: perSegment, by: 2).allSatisfy { s.get(Self.key($0)) != nil })
        #expect(stride(from: 1, to: perSegment, by: 2).allSatisfy { s.get(Self.key($0)) == nil })
        #expect((perSegment..<(capacity + perSegment / 4)).allSatisfy { s.get(Self.key($0)) != nil })
        let stats = s.statistics
        #expect(stats.evictions == UInt64(perSegment / 2))
        #expect(stats.evictedUnfetched == stats.evictions)
        #expect(s.store.bytesUsed == Self.limit)
    }

    @Test func garbageIsCompactedBeforeAnyLiveItemIsEvicted() {
        let s = TestStore(memoryLimit: Self.limit, shardCount: 1)
        let perSegment = (Self.segmentSize - 64) / Self.itemSize
        let capacity = 16 * perSegment
        Self.fill(s, count: capacity)
        // Delete half of a middle segment: a compaction wins it back, nothing live is lost.
        for i in stride(from: 5 * perSegment, to: 6 * perSegment, by: 2) { s.delete(Self.key(i)) }
        let deleted = (perSegment + 1) / 2
        for i in capacity..<(capacity + deleted) { s.set(Self.key(i), Self.value) }
        #expect(s.statistics.evictions == 0)
        #expect(s.statistics.currentItems == capacity)
        #expect((0..<perSegment).allSatisfy { s.get(Self.key($0)) != nil })
    }

    @Test func staleCopiesGoBeforeLiveItems() {
        let s = TestStore(memoryLimit: Self.limit, shardCount: 1, staleTTL: 600)
        let perSegment = (Self.segmentSize - 64) / Self.itemSize
        let capacity = 16 * perSegment
        // The oldest items stay live; a fifth of a later segment expires into stale copies.
        for i in 0..<capacity {
            let expiring = i >= 8 * perSegment && i < 8 * perSegment + perSegment / 5
            s.set(Self.key(i), Self.value, exptime: expiring ? 1 : 0)
        }
        s.advance(2)
        s.store.crawlExpired(bucketsPerShard: 1 << 20)
        for i in capacity..<(capacity + perSegment / 5) { s.set(Self.key(i), Self.value) }
        let stats = s.statistics
        #expect(stats.evictions == 0)
        #expect(stats.reclaimed == UInt64(perSegment / 5))
        #expect((0..<perSegment).allSatisfy { s.get(Self.key($0)) != nil })
    }

    @Test func evictionDisabledRefusesStoresButReusesGarbage() {
        let s = TestStore(memoryLimit: Self.limit, evictionEnabled: false, shardCount: 1)
        let perSegment = (Self.segmentSize - 64) / Self.itemSize
        let capacity = 16 * perSegment
        for i in 0..<capacity { #expect(s.set(Self.key(i), Self.value) == .stored) }
        #expect(s.set(Self.key(capacity), Self.value) == .outOfMemory)
        #expect(s.store(.add, Self.key(capacity + 1), Self.value) == .outOfMemory)
        #expect(s.get(Self.key(capacity)) == nil)
        #expect((0..<capacity).allSatisfy { s.get(Self.key($0)) != nil })
        #expect(s.store(.append, Self.key(1), String(repeating: "w", count: 100)) == .outOfMemory)
        #expect(s.text(Self.key(1)) == Self.value)
        #expect(s.statistics.evictions == 0)
        // A deleted item's bytes are reused by compaction.
        s.delete(Self.key(5))
        #expect(s.set(Self.key(capacity), Self.value) == .stored)
        #expect(s.statistics.evictions == 0)
        #expect(s.statistics.currentItems == capacity)
    }

    @Test func expiredItemsAreReclaimedNotEvicted() {
        let s = TestStore(memoryLimit: Self.limit, shardCount: 1)
        let perSegment = (Self.segmentSize - 64) / Self.itemSize
        let capacity = 16 * perSegment
        for i in 0..<capacity { s.set(Self.key(i), Self.value, exptime: i < perSegment ? 1 : 0) }
        s.advance(2)
        for i in capacity..<(capacity + perSegment / 2) { s.set(Self.key(i), Self.value) }
        let stats = s.statistics
        #expect(stats.reclaimed == UInt64(perSegment))
        #expect(stats.expiredUnfetched == UInt64(perSegment))
        #expect(stats.evictions == 0)
    }

    @Test func resizingDownGivesMemoryBack() {
        let s = TestStore(memoryLimit: 4 * Self.limit, shardCount: 4)
        for i in 0..<20_000 { s.set(Self.key(i), Self.value) }
        #expect(s.store.bytesUsed > 2 * Self.limit)
        let evicted = s.store.resize(to: Self.limit)
        #expect(s.store.bytesUsed <= Self.limit)
        #expect(evicted > 0)
        #expect(s.statistics.currentItems == 20_000 - evicted)
        // Lowering the limit without a resize applies on the next stores.
        s.store.memoryLimit = Self.limit / 2
        for i in 20_000..<20_100 { s.set(Self.key(i), Self.value) }
        #expect(s.store.bytesUsed <= Self.limit / 2)
    }

    @Test func aStoreLargerThanTheLimitIsRefused() {
        let s = TestStore(memoryLimit: 256 * 1024, shardCount: 1)
        #expect(s.store(.set, "big", [UInt8](repeating: 1, count: 300 * 1024)) == .outOfMemory)
        #expect(s.store(.set, "fits", [UInt8](repeating: 1, count: 100 * 1024)) == .stored)
        #expect(s.get("fits")?.value.count == 100 * 1024)
    }

    @Test func loweringTheLimitMakesSegmentsSmallerSoEveryShardKeepsSome() {
        // 16 shards of 1 MiB segments at 64 MiB; at 8 MiB they would hold 8 segments between
        // them, so new segments shrink instead.
        let s = TestStore(memoryLimit: 64 << 20)
        let kilobyte = [UInt8](repeating: 0x6B, count: 1000)
        for i in 0..<20_000 { s.store(.set, Self.key(i), kilobyte) }
        s.store.resize(to: 8 << 20)
        #expect(s.store.bytesUsed <= 8 << 20)
        for i in 20_000..<40_000 { #expect(s.store(.set, Self.key(i), kilobyte) == .stored) }
        #expect(s.store.bytesUsed <= 8 << 20)
        // memcached 1.6.18 keeps about 7,000 such items in 8 MB.
        let kept = (30_000..<40_000).filter { s.get(Self.key($0)) != nil }.count
        #expect(kept > 5_000, "\(kept) of the last 10,000 items kept")
    }

    @Test func segmentsReadersHoldStopCountingOnceReleased() {
        let s = TestStore(memoryLimit: Self.limit, shardCount: 1)
        let perSegment = (Self.segmentSize - 64) / Self.itemSize
        Self.fill(s, count: 16 * perSegment)
        // A reader holds one item of each of eight segments (a value being sent, say).
        let held = (0..<8).compactMap { s.item(Self.key($0 * perSegment)) }
        #expect(held.count == 8)
        for i in (16 * perSegment)..<(48 * perSegment) { #expect(s.set(Self.key(i), Self.value) == .stored) }
        // Held segments were released whole and no longer count: the store still fills its limit.
        #expect(s.store.bytesUsed <= Self.limit)
        #expect(s.statistics.currentItems > 14 * perSegment)
        for (index, item) in held.enumerated() {
            #expect(item.withKey { Array($0) } == bytes(Self.key(index * perSegment)))
            item.release()
        }
        #expect(s.store.bytesUsed <= Self.limit)
    }

    @Test func evictionOffEmptySegmentsMakeRoomForLargeItems() {
        let s = TestStore(memoryLimit: Self.limit, evictionEnabled: false, shardCount: 1)
        var count = 0
        while s.set(Self.key(count), Self.value) == .stored { count += 1 }
        for i in 0..<count { s.delete(Self.key(i)) }
        // Nothing is linked: the memory of the emptied segments goes to a 100 KB item.
        #expect(s.store(.set, "large", [UInt8](repeating: 1, count: 100_000)) == .stored)
        #expect(s.get("large")?.value.count == 100_000)
    }

    @Test func valuesSentByReferenceLiveInSegmentsOfTheirOwn() {
        // The server sends values over 16 KiB by reference: such items never share a segment,
        // so a slow reader holds only its own values.
        let s = TestStore(memoryLimit: 64 << 20, shardCount: 1)
        #expect(s.store(.set, "shared", [UInt8](repeating: 1, count: 16 * 1024 - 100)) == .stored)
        let before = s.store.bytesUsed
        #expect(s.store(.set, "own", [UInt8](repeating: 1, count: 16 * 1024 + 1)) == .stored)
        // 27 + 3 + 1 + 3 + 16,385 bytes of item and a 64-byte header, in whole 4 KiB pages.
        #expect(s.store.bytesUsed - before == 20_480)
    }
}
