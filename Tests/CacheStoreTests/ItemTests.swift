import CacheStore
import Testing

/// ``Item`` as readers see it: header fields, key and value bytes, its size in a segment, and
/// the segment reference that keeps its bytes in place.
@Suite("Item")
struct ItemTests {
    @Test func fieldsOfAStoredItem() {
        let s = TestStore()
        s.set("hello", "world!", flags: 0xDEAD_BEEF, exptime: 50)
        guard let item = s.item("hello") else { Issue.record("missing item"); return }
        defer { item.release() }
        #expect(item.header.keyCount == 5)
        #expect(item.header.valueCount == 6)
        #expect(item.header.flags == 0xDEAD_BEEF)
        #expect(item.header.exptime == s.clock.now + 50)
        #expect(item.header.cas == 1)
        #expect(item.withKey { Array($0) } == bytes("hello"))
        #expect(item.withValue { Array($0) } == bytes("world!"))
        // 27 fixed bytes, LEB128 length (1) and flags (5), key, value.
        #expect(s.statistics.bytes == 27 + 1 + 5 + 5 + 6)
    }

    @Test func emptyValueAndLongestKey() {
        let s = TestStore()
        let key = String(repeating: "k", count: 250)
        s.set(key, "")
        guard let item = s.item(key) else { Issue.record("missing item"); return }
        defer { item.release() }
        #expect(item.header.keyCount == 250)
        #expect(item.header.valueCount == 0)
        #expect(item.withKey { Array($0) } == bytes(key))
        #expect(item.withValue { Array($0) } == [])
    }

    @Test func largeValueHasASegmentOfItsOwn() {
        let s = TestStore()
        let value = (0..<1_048_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(s.store(.set, "big", value) == .stored)
        guard let item = s.item("big") else { Issue.record("missing item"); return }
        defer { item.release() }
        #expect(item.header.valueCount == 1_048_000)
        #expect(item.withValue { Array($0) } == value)
        // The store counts whole pages: the item plus the segment header, rounded up.
        #expect(s.store.bytesUsed >= 1_048_000 + 64 && s.store.bytesUsed <= 1_048_000 + 64 + 4096 + 27 + 3 + 1 + 3)
    }

    @Test func aHeldItemOutlivesReplacementDeletionAndFlush() {
        let s = TestStore(memoryLimit: 2 * 1024 * 1024, shardCount: 1)
        s.set("k", "first", flags: 1)
        guard let held = s.item("k") else { Issue.record("missing item"); return }
        s.set("k", "second", flags: 2)
        #expect(held.withValue { Array($0) } == bytes("first"))
        #expect(held.header.flags == 1)
        s.delete("k")
        s.store.removeAll()
        // The flush released every segment: the one still held no longer counts.
        #expect(s.store.bytesUsed == 0)
        // Fill the store several times over: compaction and eviction must leave it alone.
        for i in 0..<40_000 { s.set("fill\(i)", String(repeating: "x", count: 100)) }
        #expect(held.withKey { Array($0) } == bytes("k"))
        #expect(held.withValue { Array($0) } == bytes("first"))
        #expect(s.store.bytesUsed <= 2 * 1024 * 1024)
        held.release()   // the last reference: unmapped now
    }

    @Test func sizesGrowWithVarints() {
        // Item sizes are the bytes written: one byte per 7 bits of length and of flags.
        let s = TestStore()
        s.set("a", String(repeating: "v", count: 127))
        #expect(s.statistics.bytes == 27 + 1 + 1 + 1 + 127)
        s.set("a", String(repeating: "v", count: 128))
        #expect(s.statistics.bytes == 27 + 2 + 1 + 1 + 128)
        s.set("a", "v", flags: 128)
        #expect(s.statistics.bytes == 27 + 1 + 2 + 1 + 1)
        #expect(s.get("a")?.flags == 128)
        s.set("a", "v", flags: UInt32.max)
        #expect(s.get("a")?.flags == UInt32.max)
    }

    @Test func touchUpdatesTheHeaderOfTheLinkedItem() {
        let s = TestStore()
        s.set("k", "v", exptime: 10)
        guard let item = s.item("k") else { Issue.record("missing item"); return }
        defer { item.release() }
        #expect(s.touch("k", 500))
        #expect(item.header.exptime == s.clock.now + 500)
    }
}
