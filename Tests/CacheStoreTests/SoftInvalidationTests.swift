import CacheStore
import Testing

/// Soft invalidation turns live values into stale copies whose window starts at the invalidation
/// that made them stale.
@Suite struct SoftInvalidationTests {
    func freshness(_ s: TestStore, _ key: String) -> ValueFreshness {
        bytes(key).withUnsafeBytes { s.store.generationLookup($0).0 }
    }

    @Test func softInvalidationMakesLiveValuesStale() {
        let s = TestStore(staleTTL: 5)
        s.set("k", "v")
        s.store.invalidateSoftly()
        #expect(s.get("k") == nil)
        #expect(freshness(s, "k") == .stale)
        s.set("k", "w")
        #expect(freshness(s, "k") == .fresh)
    }

    @Test func aSecondInvalidationDoesNotExtendTheFirstOnesWindow() {
        let s = TestStore(staleTTL: 5)
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

    @Test func storesAfterAnInvalidationStayFresh() {
        let s = TestStore(staleTTL: 5)
        s.store.invalidateSoftly()
        s.set("k", "v")
        #expect(freshness(s, "k") == .fresh)
        #expect(s.get("k")?.text == "v")
    }
}
