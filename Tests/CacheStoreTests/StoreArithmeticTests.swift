import CacheStore
import Testing

/// incr / decr on the store, with the server's number parser (spec §5).
@Suite("Store: incr/decr")
struct StoreArithmeticTests {
    @Test func incrementAndDecrement() {
        let s = TestStore()
        #expect(s.incr("n", 1) == .notFound)
        #expect(s.decr("n", 1) == .notFound)
        s.set("n", "5")
        #expect(s.incr("n", 2) == .value(7))
        #expect(s.decr("n", 3) == .value(4))
        #expect(s.text("n") == "4")
    }

    @Test func incrementWrapsAt2To64() {
        let s = TestStore()
        s.set("a", "18446744073709551615")
        #expect(s.incr("a", 1) == .value(0))
        #expect(s.text("a") == "0" + String(repeating: " ", count: 19))
        s.set("b", "18446744073709551614")
        #expect(s.incr("b", 3) == .value(1))
        s.set("c", "1")
        #expect(s.incr("c", UInt64.max) == .value(0))
    }

    @Test func decrementStopsAtZero() {
        let s = TestStore()
        s.set("n", "99")
        #expect(s.decr("n", 200) == .value(0))
        #expect(s.text("n") == "0 ")
        #expect(s.decr("n", 1) == .value(0))
        s.set("m", "5")
        #expect(s.decr("m", UInt64.max) == .value(0))
    }

    @Test func shorterResultsArePaddedWithSpaces() {
        let s = TestStore()
        s.set("a", "99")
        #expect(s.incr("a", 1) == .value(100))
        #expect(s.text("a") == "100")
        #expect(s.decr("a", 1) == .value(99))
        #expect(s.text("a") == "99 ")
        #expect(s.decr("a", 200) == .value(0))
        #expect(s.text("a") == "0  ")

        s.set("b", "10")
        #expect(s.decr("b", 1) == .value(9))
        #expect(s.text("b") == "9 ")

        s.set("c", "100")
        #expect(s.decr("c", 91) == .value(9))
        #expect(s.text("c") == "9  ")
        #expect(s.incr("c", 1) == .value(10))
        #expect(s.text("c") == "10 ")

        s.set("d", "00000000000000000001")
        #expect(s.incr("d", 1) == .value(2))
        #expect(s.text("d") == "2" + String(repeating: " ", count: 19))
    }

    @Test func longerResultsGrowTheValue() {
        let s = TestStore()
        s.set("k", "5")
        #expect(s.store(.append, "k", "55") == .stored)
        #expect(s.incr("k", 1) == .value(556))
        #expect(s.get("k")?.value.count == 3)
        s.set("n", "9")
        #expect(s.incr("n", 1) == .value(10))
        #expect(s.text("n") == "10")
        #expect(s.incr("n", 18_446_744_073_709_551_000) == .value(18_446_744_073_709_551_010))
        #expect(s.text("n") == "18446744073709551010")
    }

    @Test func flagsAndExptimeAreKeptAndCASChanges() {
        let s = TestStore()
        s.set("n", "10", flags: 77, exptime: 100)
        let before = s.get("n")!
        #expect(s.incr("n", 1) == .value(11))
        let after = s.get("n")!
        #expect(after.flags == 77)
        #expect(after.exptime == before.exptime)
        #expect(after.cas == before.cas + 1)
        #expect(s.incr("n", 1000) == .value(1011))
        #expect(s.get("n")?.flags == 77)
        #expect(s.get("n")?.exptime == before.exptime)
    }

    @Test(arguments: ["", "abc", "12abc", "-1", "18446744073709551616", "0x10", "x1", " ", "1.5"])
    func nonNumericValues(value: String) {
        let s = TestStore()
        s.set("k", value)
        #expect(s.incr("k", 1) == .nonNumeric)
        #expect(s.decr("k", 1) == .nonNumeric)
        #expect(s.text("k") == value)
    }

    @Test(arguments: [
        (" 12", UInt64(13)), ("12 ", 13), ("+12", 13), ("5\t", 6), ("1 2", 2), ("12\r\n", 13),
        ("000000000000000000001", 2), ("-0", 1), ("0", 1),
    ] as [(String, UInt64)])
    func numericValuesFollowStrtoull(value: String, incremented: UInt64) {
        let s = TestStore()
        s.set("k", value)
        #expect(s.incr("k", 1) == .value(incremented))
    }

    @Test func paddedValuesStayNumeric() {
        let s = TestStore()
        s.set("k", "1000")
        #expect(s.decr("k", 999) == .value(1))
        #expect(s.text("k") == "1   ")
        #expect(s.incr("k", 1) == .value(2))
        #expect(s.text("k") == "2   ")
    }

    @Test func expiredValuesAreNotFound() {
        let s = TestStore()
        s.set("k", "1", exptime: 1)
        s.advance(1)
        #expect(s.incr("k", 1) == .notFound)
    }

    @Test func growingIncrWithoutMemoryMustNotReportAValueItDidNotStore() {
        // With eviction off and the store exactly full, an incr whose result needs a bigger item
        // cannot be stored. memcached answers "SERVER_ERROR out of memory"; whatever the store
        // reports, a reported new value must be the value that is stored.
        let s = TestStore(memoryLimit: 64 * 1024, evictionEnabled: false, shardCount: 1)
        let nines = String(repeating: "9", count: 9)
        var stored = 0
        while s.set("key\(stored)", nines) == .stored { stored += 1 }
        #expect(stored > 1000)
        let mapped = s.store.bytesUsed
        // The segment's tail has less room than one item: a one-digit-longer item cannot fit.
        let outcome = s.incr("key0", 1)
        #expect(outcome == .outOfMemory)
        #expect(s.text("key0") == nines)
        #expect(s.store.bytesUsed == mapped)
    }
}
