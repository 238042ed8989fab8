import CacheStore
import Testing

/// ``Item`` as readers see it: header fields, key and value bytes, footprint.
@Suite("Item")
struct ItemTests {
    @Test func fieldsOfAStoredItem() {
        let s = TestStore()
        s.set("hello", "world!", flags: 0xDEAD_BEEF, exptime: 50)
        guard let item = s.item("hello") else { Issue.record("missing item"); return }
        #expect(item.header.keyCount == 5)
        #expect(item.header.valueCount == 6)
        #expect(item.header.flags == 0xDEAD_BEEF)
        #expect(item.header.exptime == s.clock.now + 50)
        #expect(item.header.cas == 1)
        #expect(item.withKey { Array($0) } == bytes("hello"))
        #expect(item.withValueAndTerminator { Array($0) } == bytes("world!\r\n"))
        #expect(item.footprint == Item.footprint(keyCount: 5, valueCount: 6))
    }

    @Test func emptyValueAndLongestKey() {
        let s = TestStore()
        let key = String(repeating: "k", count: 250)
        s.set(key, "")
        guard let item = s.item(key) else { Issue.record("missing item"); return }
        #expect(item.header.keyCount == 250)
        #expect(item.header.valueCount == 0)
        #expect(item.withKey { Array($0) } == bytes(key))
        #expect(item.withValueAndTerminator { Array($0) } == bytes("\r\n"))
    }

    @Test func largeValue() {
        let s = TestStore()
        let value = (0..<1_048_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(s.store(.set, "big", value) == .stored)
        guard let item = s.item("big") else { Issue.record("missing item"); return }
        #expect(item.header.valueCount == 1_048_000)
        let read = item.withValueAndTerminator { Array($0) }
        #expect(read.count == 1_048_002)
        #expect(Array(read.prefix(1_048_000)) == value)
        #expect(read.suffix(2) == [0x0D, 0x0A])
    }

    @Test func aHeldItemOutlivesReplacementAndDeletion() {
        let s = TestStore()
        s.set("k", "first", flags: 1)
        guard let held = s.item("k") else { Issue.record("missing item"); return }
        s.set("k", "second", flags: 2)
        #expect(held.withValueAndTerminator { Array($0) } == bytes("first\r\n"))
        #expect(held.header.flags == 1)
        s.delete("k")
        s.store.removeAll()
        for i in 0..<1000 { s.set("fill\(i)", String(repeating: "x", count: 100)) }
        #expect(held.withKey { Array($0) } == bytes("k"))
        #expect(held.withValueAndTerminator { Array($0) } == bytes("first\r\n"))
    }

    @Test func footprintIsAlignedAndMonotonic() {
        var previous = 0
        for valueCount in 0..<200 {
            let footprint = Item.footprint(keyCount: 10, valueCount: valueCount)
            #expect(footprint % 16 == 0)
            #expect(footprint >= 10 + valueCount + 2)
            #expect(footprint >= previous)
            #expect(footprint - (10 + valueCount + 2) < 256)
            previous = footprint
        }
        for keyCount in 1...250 {
            #expect(Item.footprint(keyCount: keyCount, valueCount: 0) >= Item.footprint(keyCount: keyCount - 1, valueCount: 0))
        }
        #expect(Item.footprint(keyCount: 5, valueCount: 7) == Item.footprint(keyCount: 7, valueCount: 5))
    }

    @Test func touchUpdatesTheHeaderOfTheLinkedItem() {
        let s = TestStore()
        s.set("k", "v", exptime: 10)
        guard let item = s.item("k") else { Issue.record("missing item"); return }
        #expect(s.touch("k", 500))
        #expect(item.header.exptime == s.clock.now + 500)
    }
}
