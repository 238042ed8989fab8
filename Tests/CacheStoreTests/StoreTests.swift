import CacheStore
import Testing

/// Storage semantics, CAS uniques, expiry, touch and delete (spec §3, §5, §8).
@Suite("Store")
struct StoreTests {
    // MARK: - set / add / replace

    @Test func setThenGet() {
        let s = TestStore()
        #expect(s.get("k") == nil)
        #expect(s.set("k", "hello", flags: 42) == .stored)
        let hit = s.get("k")
        #expect(hit?.text == "hello")
        #expect(hit?.flags == 42)
        #expect(hit?.exptime == 0)
        #expect(s.set("k", "", flags: 0) == .stored)
        #expect(s.get("k")?.value == [])
        #expect(s.get("K") == nil)
    }

    @Test func rawBinaryKeysAndValues() {
        let s = TestStore()
        let value: [UInt8] = [0, 0x0D, 0x0A, 0xFF, 0x80, 0x20]
        #expect(s.store(.set, "k\u{1}\r\n", value) == .stored)
        #expect(s.get("k\u{1}\r\n")?.value == value)
        let key250 = String(repeating: "x", count: 250)
        #expect(s.set(key250, "v") == .stored)
        #expect(s.text(key250) == "v")
    }

    @Test func addOnlyWhenMissing() {
        let s = TestStore()
        #expect(s.store(.add, "k", "one", flags: 1) == .stored)
        #expect(s.store(.add, "k", "two", flags: 2) == .notStored)
        #expect(s.get("k")?.text == "one")
        #expect(s.get("k")?.flags == 1)
    }

    @Test func replaceOnlyWhenPresentAndTakesNewFlags() {
        let s = TestStore()
        #expect(s.store(.replace, "k", "one") == .notStored)
        #expect(s.get("k") == nil)
        s.set("k", "one", flags: 1, exptime: 100)
        #expect(s.store(.replace, "k", "two", flags: 2) == .stored)
        #expect(s.get("k") == Hit(value: bytes("two"), flags: 2, cas: 2, exptime: 0))
    }

    // MARK: - append / prepend

    @Test func appendAndPrependKeepOldFlagsAndExptime() {
        let s = TestStore()
        s.set("n5", "ab", flags: 5, exptime: 100)
        let exptime = s.get("n5")!.exptime
        #expect(exptime == s.clock.now + 100)
        #expect(s.store(.append, "n5", "cd", flags: 9, exptime: -1) == .stored)
        #expect(s.store(.prepend, "n5", "xy", flags: 7, exptime: -1) == .stored)
        #expect(s.get("n5") == Hit(value: bytes("xyabcd"), flags: 5, cas: 3, exptime: exptime))
    }

    @Test func appendPrependOnMissingKey() {
        let s = TestStore()
        #expect(s.store(.append, "k", "x") == .notStored)
        #expect(s.store(.prepend, "k", "x") == .notStored)
        #expect(s.get("k") == nil)
    }

    @Test func appendEmptyValues() {
        let s = TestStore()
        s.set("k", "")
        #expect(s.store(.append, "k", "") == .stored)
        #expect(s.store(.prepend, "k", "a") == .stored)
        #expect(s.store(.append, "k", "") == .stored)
        #expect(s.text("k") == "a")
    }

    @Test func appendBeyondTheItemSizeLimitIsRefused() {
        let s = TestStore(itemFits: { _, _, count in count <= 10 })
        s.set("k", "12345")
        #expect(s.store(.append, "k", "67890") == .stored)
        #expect(s.store(.append, "k", "x") != .stored)
        #expect(s.store(.prepend, "k", "x") != .stored)
        #expect(s.text("k") == "1234567890")
    }

    // MARK: - cas

    @Test func casOutcomes() {
        let s = TestStore()
        #expect(s.store(.cas, "k", "v", cas: 1) == .notFound)
        s.set("k", "one")
        let unique = s.cas("k")!
        #expect(s.store(.cas, "k", "two", cas: unique + 1) == .exists)
        #expect(s.store(.cas, "k", "two", cas: 0) == .exists)
        #expect(s.text("k") == "one")
        #expect(s.store(.cas, "k", "two", flags: 3, cas: unique) == .stored)
        #expect(s.get("k")?.text == "two")
        #expect(s.get("k")?.flags == 3)
        #expect(s.store(.cas, "k", "three", cas: unique) == .exists)
    }

    @Test func casOnExpiredKeyIsNotFound() {
        let s = TestStore()
        s.set("k", "v", exptime: 1)
        let unique = s.cas("k")!
        s.advance(1)
        #expect(s.store(.cas, "k", "w", cas: unique) == .notFound)
    }

    // MARK: - CAS uniques

    @Test func casUniquesIncreaseOnEverySuccessfulStore() {
        let s = TestStore()
        s.set("a", "1")
        #expect(s.cas("a") == 1)
        var last: UInt64 = 1
        func expectNext(_ key: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let cas = s.cas(key)
            #expect(cas == last + 1, sourceLocation: sourceLocation)
            last = cas ?? last
        }
        s.set("a", "2"); expectNext("a")
        s.store(.add, "b", "1"); expectNext("b")
        s.store(.replace, "b", "2"); expectNext("b")
        s.store(.append, "b", "3"); expectNext("b")
        s.store(.prepend, "b", "4"); expectNext("b")
        s.store(.cas, "b", "5", cas: last); expectNext("b")
        _ = s.incr("b", 1); expectNext("b")
        _ = s.decr("b", 1); expectNext("b")
        _ = s.incr("b", 1_000_000); expectNext("b")  // a longer result: a new item
    }

    @Test func failuresAndReadsDoNotUseUniques() {
        let s = TestStore()
        s.set("a", "1")
        #expect(s.store(.add, "a", "x") == .notStored)
        #expect(s.store(.replace, "missing", "x") == .notStored)
        #expect(s.store(.append, "missing", "x") == .notStored)
        #expect(s.store(.cas, "a", "x", cas: 99) == .exists)
        #expect(s.store(.cas, "missing", "x", cas: 1) == .notFound)
        #expect(s.incr("missing", 1) == .notFound)
        #expect(s.touch("a", 100))
        _ = s.get("a")
        #expect(s.cas("a") == 1)
        s.set("b", "1")
        #expect(s.cas("b") == 2)
    }

    @Test func flushUsesUpOneUnique() {
        let s = TestStore()
        for i in 1...6 { s.set("k\(i)", "v") }
        #expect(s.cas("k6") == 6)
        s.store.consumeCASUnique()
        s.store.removeAll()
        s.set("k", "v")
        #expect(s.cas("k") == 8)
    }

    // MARK: - touch / delete / removeAll

    @Test func touchUpdatesExptimeButNotCAS() {
        let s = TestStore()
        #expect(!s.touch("k", 10))
        s.set("k", "v", exptime: 1)
        let cas = s.cas("k")
        #expect(s.touch("k", 10))
        #expect(s.get("k")?.exptime == s.clock.now + 10)
        #expect(s.cas("k") == cas)
        s.advance(5)
        #expect(s.text("k") == "v")
        #expect(s.touch("k", 0))
        s.advance(100_000)
        #expect(s.text("k") == "v")
        #expect(s.touch("k", -1))
        #expect(s.get("k") == nil)
        #expect(!s.touch("k", 10))
    }

    @Test func deleteAndRemoveAll() {
        let s = TestStore()
        #expect(!s.delete("k"))
        s.set("k", "v")
        #expect(s.delete("k"))
        #expect(!s.delete("k"))
        #expect(s.get("k") == nil)
        #expect(s.statistics.bytes == 0)
        for i in 0..<500 { s.set("key\(i)", "value\(i)") }
        #expect(s.statistics.currentItems == 500)
        s.store.removeAll()
        #expect(s.statistics.currentItems == 0)
        #expect(s.statistics.bytes == 0)
        #expect(s.store.bytesUsed == 0)
        #expect((0..<500).allSatisfy { s.get("key\($0)") == nil })
        s.set("key1", "again")
        #expect(s.text("key1") == "again")
    }

    @Test func deleteOfAnExpiredItemIsNotFound() {
        let s = TestStore()
        s.set("k", "v", exptime: 1)
        s.advance(1)
        #expect(!s.delete("k"))
    }

    // MARK: - Expiry (spec §8)

    @Test func relativeExptime() {
        let s = TestStore()
        s.set("one", "v", exptime: 1)
        s.set("two", "v", exptime: 2)
        s.set("never", "v", exptime: 0)
        #expect(s.text("one") == "v")
        s.advance(1)
        #expect(s.get("one") == nil)
        #expect(s.text("two") == "v")
        s.advance(1)
        #expect(s.get("two") == nil)
        s.advance(10_000_000)
        #expect(s.text("never") == "v")
    }

    @Test func negativeExptimeIsAlreadyExpired() {
        let s = TestStore()
        #expect(s.set("k", "v", exptime: -1) == .stored)
        #expect(s.get("k") == nil)
        #expect(s.store(.add, "k", "w") == .stored)
        #expect(s.text("k") == "w")
        #expect(s.set("m", "v", exptime: Int32.min) == .stored)
        #expect(s.get("m") == nil)
    }

    @Test func thirtyDayBoundary() {
        let s = TestStore()
        s.set("relative", "v", exptime: 2_592_000)
        s.set("absolute", "v", exptime: 2_592_001)
        #expect(s.text("relative") == "v")
        #expect(s.get("absolute") == nil)
        s.advance(2_591_999)
        #expect(s.text("relative") == "v")
        s.advance(1)
        #expect(s.get("relative") == nil)
    }

    @Test func absoluteExptime() {
        let s = TestStore()
        let now = Int32(TestStore.startTime)
        s.set("future", "v", exptime: now + 100)
        s.set("now", "v", exptime: now)
        s.set("past", "v", exptime: 1_000_000_000)
        #expect(s.text("future") == "v")
        #expect(s.get("now") == nil)
        #expect(s.get("past") == nil)
        s.advance(99)
        #expect(s.text("future") == "v")
        s.advance(1)
        #expect(s.get("future") == nil)
    }

    @Test func replaceAndAppendDoNotSeeExpiredItems() {
        let s = TestStore()
        s.set("k", "v", exptime: 1)
        s.advance(1)
        #expect(s.store(.replace, "k", "w") == .notStored)
        #expect(s.store(.append, "k", "w") == .notStored)
        #expect(s.store(.prepend, "k", "w") == .notStored)
        #expect(s.incr("k", 1) == .notFound)
        #expect(!s.touch("k", 100))
    }
}
