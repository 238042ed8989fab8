import CacheStore
import MemcacheProtocol
import Testing

/// memcached's `-C`: items carry no CAS for clients, as memcached 1.6.18 answers with it (run
/// against Debian's binary): `cas` and `ms C` never match an existing item, `md`/`ma` match only
/// `C0`, `ms MA C<n>` does not compare, and every reported CAS is 0.
@Suite struct StoreWithoutCASTests {
    let meta = StoreMetaTests()

    @Test func compareAndSwapNeverMatches() {
        let s = TestStore(casEnabled: false)
        s.set("k", "v")
        #expect(s.store(.cas, "k", "w", cas: 0) == .exists)
        #expect(s.store(.cas, "k", "w", cas: 1) == .exists)
        #expect(s.store(.cas, "missing", "w", cas: 0) == .notFound)
        #expect(meta.metaStore(s, .compareAndSwap, "k", "w", cas: 0) == .exists)
        #expect(meta.metaStore(s, .compareAndSwap, "k", "w", cas: 1, invalidate: true) == .exists)
    }

    @Test func reportedCASIsZeroAndOnlyC0Matches() {
        let s = TestStore(casEnabled: false)
        #expect(meta.metaStore(s, .set, "k", "1") == .stored(cas: 0))
        #expect(meta.metaStore(s, .append, "k", "2", cas: 99) == .stored(cas: 0))
        #expect(meta.metaDelete(s, "k", cas: 1) == .exists)
        #expect(meta.metaDelete(s, "k", cas: 0) == .deleted)
        s.set("k", "v")
        let seen = meta.access(s, "k") { #expect($0.cas == 0) }
        #expect(seen.found)
    }

    @Test func withCASTheSameCallsCompare() {
        let s = TestStore()
        s.set("k", "v")
        #expect(s.store(.cas, "k", "w", cas: s.cas("k")!) == .stored)
        #expect(meta.metaStore(s, .append, "k", "2", cas: 99) == .exists)
    }

    @Test func itemsCarryNoCASBytes() {
        let with = TestStore()
        let without = TestStore(casEnabled: false)
        for s in [with, without] { s.set("key", "value") }
        #expect(with.statistics.bytes - without.statistics.bytes == 8)
        #expect(without.get("key")?.text == "value")
        #expect(without.get("key")?.cas == 0)
    }
}
