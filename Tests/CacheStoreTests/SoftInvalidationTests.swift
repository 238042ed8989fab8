import CacheStore
import Testing

/// Soft invalidation turns live values into stale copies whose window starts at the invalidation
/// that made them stale: judged by CAS, and under `-C` (items without a CAS field) by moving
/// their exptime.
@Suite struct SoftInvalidationTests {
    func freshness(_ s: TestStore, _ key: String) -> ValueFreshness {
        let (freshness, item) = bytes(key).withUnsafeBytes { s.store.generationLookup($0) }
        item?.release()
        return freshness
    }

    @Test(arguments: [true, false]) func softInvalidationMakesLiveValuesStale(cas: Bool) {
        let s = TestStore(staleTTL: 5, casEnabled: cas)
        s.set("k", "v")
        s.store.invalidateSoftly()
        #expect(s.get("k") == nil)
        #expect(freshness(s, "k") == .stale)
        s.set("k", "w")
        #expect(freshness(s, "k") == .fresh)
    }

    @Test(arguments: [true, false]) func aSecondInvalidationDoesNotExtendTheFirstOnesWindow(cas: Bool) {
        let s = TestStore(staleTTL: 5, casEnabled: cas)
        s.set("old", "v")
        s.store.invalidateSoftly()
        s.advance(3)
        s.set("newer", "v")
        s.store.invalidateSoftly()
        s.advance(3)
        // "old" went stale 6 s ago, past its 5 s window; "newer" 3 s ago, still inside its own.
        #expect(freshness(s, "old") == .missing)
        #expect(freshness(s, "newer") == .stale)
        s.advance(3)
        #expect(freshness(s, "newer") == .missing)
    }

    @Test(arguments: [true, false]) func storesAfterAnInvalidationStayFresh(cas: Bool) {
        let s = TestStore(staleTTL: 5, casEnabled: cas)
        s.store.invalidateSoftly()
        s.set("k", "v")
        #expect(freshness(s, "k") == .fresh)
        #expect(s.get("k")?.text == "v")
    }

    @Test func withoutCASAnExpiredItemKeepsItsOwnWindow() {
        // An item that had already expired keeps the moment it did (the invalidation does not
        // move it later).
        let s = TestStore(staleTTL: 5, casEnabled: false)
        s.set("short", "v", exptime: 1)
        s.advance(3)
        s.store.invalidateSoftly()
        s.advance(3)
        #expect(freshness(s, "short") == .missing)
    }
}
