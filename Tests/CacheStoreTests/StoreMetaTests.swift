import CacheStore
import MemcacheProtocol
import Testing

/// The store operations behind the meta commands, and how lockgen's lookup sees meta's marks.
@Suite struct StoreMetaTests {
    func freshness(_ s: TestStore, _ key: String) -> ValueFreshness {
        bytes(key).withUnsafeBytes { s.store.generationLookup($0).0 }
    }

    /// `mg`-style access: (exists, created, stale, win sent, exptime).
    func access(_ s: TestStore, _ key: String, vivify: Bool = false, _ body: (MetaItem) -> Void = { _ in })
        -> (found: Bool, created: Bool, stale: Bool, won: Bool, exptime: UInt32) {
        bytes(key).withUnsafeBytes { k in
            s.store.withMetaItem(k, vivify: vivify) { meta, created in
                guard let meta else { return (false, false, false, false, 0) }
                body(meta)
                return (true, created, meta.isStale, meta.winTokenSent, meta.exptime)
            }
        }
    }

    func metaStore(_ s: TestStore, _ mode: MetaStoreMode, _ key: String, _ value: String, cas: UInt64 = 0,
                   invalidate: Bool = false, exptime: Int32 = 0) -> MetaStoreOutcome {
        bytes(key).withUnsafeBytes { k in
            bytes(value).withUnsafeBytes { v in
                s.store.metaStore(mode, key: k, flags: 0, exptime: s.clock.expiry(fromProtocol: exptime),
                                  compareCAS: cas, invalidate: invalidate, binaryKey: false, value: v).outcome
            }
        }
    }

    func metaDelete(_ s: TestStore, _ key: String, cas: UInt64? = nil, invalidate: Bool = false, ttl: Int32? = nil) -> MetaDeleteOutcome {
        bytes(key).withUnsafeBytes {
            s.store.metaDelete($0, compareCAS: cas, invalidate: invalidate, newExptime: ttl.map { s.clock.expiry(fromProtocol: $0) })
        }
    }

    @Test func vivifyCreatesAPlaceholderThatLockgenSeesAsMissing() {
        let s = TestStore()
        #expect(access(s, "k").found == false)
        let first = access(s, "k", vivify: true) { $0.markWinTokenSent() }
        #expect(first.found && first.created && !first.stale)
        let second = access(s, "k", vivify: true)
        #expect(second.found && !second.created && second.won)
        #expect(s.text("k") == "")  // classic get sees the empty value, as in memcached
        #expect(freshness(s, "k") == .missing)
        s.set("k", "v")
        #expect(freshness(s, "k") == .fresh)
    }

    @Test func invalidateMarksStaleBumpsCASAndClearsTheWin() {
        let s = TestStore()
        s.set("k", "v", exptime: 100)
        _ = access(s, "k") { $0.markWinTokenSent() }
        let cas = s.cas("k")!
        #expect(metaDelete(s, "k", cas: cas + 1, invalidate: true) == .exists)
        #expect(metaDelete(s, "k", invalidate: true, ttl: 30) == .invalidated)
        let after = access(s, "k")
        #expect(after.stale && !after.won && after.exptime == s.clock.expiry(fromProtocol: 30))
        #expect(s.cas("k")! > cas)
        #expect(s.text("k") == "v")  // still served to classic verbs
        #expect(freshness(s, "k") == .stale)  // lockgen: a stale copy to regenerate
        #expect(metaDelete(s, "k") == .deleted)
        #expect(metaDelete(s, "k") == .notFound)
    }

    @Test func casWithInvalidateStoresAnOlderValueAsStale() {
        let s = TestStore()
        s.set("other", "x")  // so that k's CAS is above 1 and `cas - 1` is a real, older CAS
        s.set("k", "v1", exptime: 100)
        _ = access(s, "k") { $0.markWinTokenSent() }
        let cas = s.cas("k")!
        #expect(metaStore(s, .compareAndSwap, "k", "v2", cas: cas + 5, invalidate: true) == .exists)
        #expect(metaStore(s, .compareAndSwap, "k", "v2", cas: 0, invalidate: true) == .exists)
        guard case .stored = metaStore(s, .compareAndSwap, "k", "v2", cas: cas - 1, invalidate: true, exptime: 5) else {
            Issue.record("older cas with I must store")
            return
        }
        let after = access(s, "k")
        // Stale, keeping the old exptime and the win mark.
        #expect(after.stale && after.won && after.exptime == s.clock.expiry(fromProtocol: 100))
        #expect(s.text("k") == "v2")
        #expect(metaStore(s, .compareAndSwap, "missing", "x", cas: 1) == .notFound)
    }

    @Test func modesFollowMemcached() {
        let s = TestStore()
        #expect(metaStore(s, .append, "k", "x") == .notStored)
        #expect(metaStore(s, .replace, "k", "x") == .notStored)
        guard case .stored = metaStore(s, .add, "k", "a") else { Issue.record("add"); return }
        #expect(metaStore(s, .add, "k", "b") == .notStored)
        let cas = s.cas("k")!
        #expect(metaStore(s, .append, "k", "c", cas: cas + 1) == .exists)
        guard case .stored = metaStore(s, .append, "k", "c", cas: cas) else { Issue.record("append"); return }
        guard case .stored = metaStore(s, .prepend, "k", "p") else { Issue.record("prepend"); return }
        #expect(s.text("k") == "pac")
    }

    @Test func aFailedAddDoesNotCountAsARead() {
        let s = TestStore()
        s.set("k", "v")
        #expect(metaStore(s, .add, "k", "w") == .notStored)
        #expect(s.store(.add, "k", "w") == .notStored)
        var fetched = true
        _ = access(s, "k") { fetched = $0.fetched }
        #expect(!fetched)
    }

    func arithmetic(_ s: TestStore, _ key: String, decrement: Bool = false, delta: UInt64 = 1, vivify: UInt64? = nil,
                    ttl: Int32? = nil) -> MetaArithmeticOutcome {
        bytes(key).withUnsafeBytes {
            s.store.metaArithmetic(
                $0, increment: !decrement, delta: delta, compareCAS: 0, vivify: vivify,
                hitExptime: ttl.map { s.clock.expiry(fromProtocol: $0) },
                createdExptime: ttl.map { s.clock.expiry(fromProtocol: $0) }, parse: NumberParsing.parseUInt64).outcome
        }
    }

    @Test func arithmeticKeepsMarksInPlaceAndLosesTTLWhenTheNumberGrows() {
        let s = TestStore()
        s.set("n", "10")
        _ = metaDelete(s, "n", invalidate: true)
        guard case .value(9, _, _, false) = arithmetic(s, "n", decrement: true, ttl: 100) else { Issue.record("decr"); return }
        #expect(s.text("n") == "9 ")
        let inPlace = access(s, "n")
        #expect(inPlace.stale && inPlace.exptime == s.clock.expiry(fromProtocol: 100))
        s.set("m", "9")
        guard case .value(10, _, _, false) = arithmetic(s, "m", ttl: 100) else { Issue.record("incr"); return }
        #expect(access(s, "m").exptime == 0)
        guard case .value(5, _, 0, true) = arithmetic(s, "new", vivify: 5, ttl: 100) else { Issue.record("vivify"); return }
        #expect(access(s, "new").exptime == s.clock.expiry(fromProtocol: 100))
        #expect(arithmetic(s, "none") == .notFound)
        s.set("empty", "")
        #expect(arithmetic(s, "empty") == .nonNumeric)
    }

    @Test func debugReportsMemcachedsItemSize() {
        let s = TestStore()
        s.set("foob", "x")
        let snapshot = bytes("foob").withUnsafeBytes { s.store.metaDebug($0) }
        #expect(snapshot?.memcachedSize == 64)
        #expect(MemcachedSlabClasses.classID(forTotal: 64) == 1)
        #expect(MemcachedSlabClasses.classID(forTotal: 102) == 2)
        #expect(MemcachedSlabClasses.classID(forTotal: 5064) == 19)
        #expect(MemcachedSlabClasses.classID(forTotal: 300_066) == 37)
        #expect(MemcachedSlabClasses.classID(forTotal: 520_066) == 39)
    }
}
