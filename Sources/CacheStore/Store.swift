import Dogpile
import Synchronization

/// The item store: a sharded hash table whose items live in segments, under one memory limit.
///
/// Shards are chosen by the high bits of the key's hash, so worker threads rarely meet on a lock.
/// Memory is counted in mapped segments, store-wide; a shard that needs room compacts one of its
/// own segments first (Shard+Segments.swift) and otherwise releases the oldest segment of another
/// shard whose lock is free at that moment (never waiting on a second lock, so there is no
/// lock-order deadlock). docs/store-layout.md explains the layout and its figures.
///
/// Every ``Item`` a public method returns has been retained for the caller (``Item/retain()``):
/// its bytes stay in place, even if the key is replaced or evicted meanwhile, until the caller
/// calls ``Item/release()``.
public final class Store: @unchecked Sendable {
    /// The clock items expire on.
    public let clock: ServerClock
    /// The configuration in force (memory limit and stale TTL may change later).
    public let configuration: StoreConfiguration
    private let memoryBudget: Atomic<Int>

    /// The memory limit in bytes (changeable at run time, e.g. on reload or `cache_memlimit`).
    /// New segments follow it: a lowered limit makes them smaller, so every shard still has a
    /// few (the shard count is fixed at start, by the hash).
    public var memoryLimit: Int {
        get { memoryBudget.load(ordering: .relaxed) }
        set {
            memoryBudget.store(newValue, ordering: .relaxed)
            // As at start, and small enough for four segments per shard.
            let fourPerShard = max(4096, Self.powerOfTwoAtMost(newValue / (shards.count * 4)))
            let size = min(Self.layout(memoryLimit: newValue, maximumShards: shards.count).segmentSize, fourPerShard)
            for shard in shards {
                shard.lock()
                shard.useSegments(of: size)
                shard.unlock()
            }
        }
    }
    let shards: [Shard]
    /// The shards, for the dump and resize extension.
    var shardList: [Shard] { shards }
    private let shardShift: UInt64
    let memory = MemoryCounter()
    private let casSequence: CASSequence
    let evictionCursor = Atomic<Int>(0)
    private let staleSeconds: Atomic<UInt32>
    private let softInvalidatedThrough = Atomic<UInt64>(0)
    private let softInvalidations = SoftInvalidations()

    /// Creates an empty store. Stores that share `casSequence` (the regions of one server) hand
    /// out CAS uniques from one increasing counter, as memcached does.
    public init(configuration: StoreConfiguration, clock: ServerClock, casSequence: CASSequence = CASSequence()) {
        self.casSequence = casSequence
        self.configuration = configuration
        self.clock = clock
        let memory = self.memory
        let layout = Self.layout(memoryLimit: configuration.memoryLimit, maximumShards: configuration.shardCount)
        self.shards = (0..<layout.shards).map { _ in Shard(memory: memory, segmentSize: layout.segmentSize) }
        self.shardShift = UInt64(64 - layout.shards.trailingZeroBitCount)
        self.staleSeconds = Atomic(configuration.staleTTL)
        self.memoryBudget = Atomic(configuration.memoryLimit)
    }

    static func powerOfTwoAtMost(_ value: Int) -> Int { value < 1 ? 1 : 1 << (Int.bitWidth - 1 - value.leadingZeroBitCount) }

    /// The segment size and shard count for a memory limit: segments of a 64th of the limit
    /// (64 KiB to 1 MiB), and shards that each hold about four of them (at most
    /// `maximumShards`), so eviction takes a small slice of the store at a time.
    public static func layout(memoryLimit: Int, maximumShards: Int) -> (segmentSize: Int, shards: Int) {
        // A segment never exceeds the limit (a tiny region still stores small items).
        let floor = max(4096, min(64 * 1024, powerOfTwoAtMost(memoryLimit)))
        let segmentSize = min(Segment.maximumSize, max(floor, powerOfTwoAtMost(memoryLimit / 64)))
        let shards = min(maximumShards, max(1, powerOfTwoAtMost(memoryLimit / (segmentSize * 4))))
        return (segmentSize, shards)
    }

    /// The freshness rules as of now.
    @inline(__always)
    func policy() -> StalePolicy {
        StalePolicy(
            now: clock.now, staleTTL: staleSeconds.load(ordering: .relaxed),
            softInvalidatedThrough: softInvalidatedThrough.load(ordering: .relaxed),
            history: softInvalidations)
    }

    /// Seconds a stale copy is kept (changeable at run time).
    public var staleTTL: UInt32 {
        get { staleSeconds.load(ordering: .relaxed) }
        set { staleSeconds.store(newValue, ordering: .relaxed) }
    }

    @inline(__always)
    func shard(for hash: UInt64) -> Shard {
        shards[shardShift == 64 ? 0 : Int(truncatingIfNeeded: hash >> shardShift)]
    }

    /// The next CAS unique: one increasing counter for the whole store.
    @inline(__always)
    func nextCAS() -> UInt64 {
        casSequence.next()
    }

    /// `item`'s CAS as clients see it: 0 when CAS is off (`-C`), as memcached reports an item
    /// without the CAS field. Call under the item's shard lock (or on an unlinked item).
    @inline(__always)
    func clientCAS(_ item: Item) -> UInt64 {
        configuration.casEnabled ? item.header.cas : 0
    }

    // MARK: - Reads

    /// The live item with `key`, marked read; with `newExptime`, its exptime is updated too
    /// (`gat`, `touch`). Retained for the caller, who releases it once its bytes are sent.
    public func get(_ key: UnsafeRawBufferPointer, newExptime: UInt32? = nil) -> Item? {
        var found: Item?
        _ = read(key, newExptime: newExptime) { item in
            item.retain()
            found = item
        }
        return found
    }

    /// Runs `body` on the live item with `key` under its shard's lock, after marking it read
    /// (and, with `newExptime`, updating its exptime); returns whether there was one. What
    /// `body` does not copy it must ``Item/retain()`` before the lock is released. The get
    /// path's way: no reference count moves for a value copied into the reply.
    @inline(__always)
    public func read(_ key: UnsafeRawBufferPointer, newExptime: UInt32? = nil, _ body: (Item) -> Void) -> Bool {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        guard let item = shard.find(key, hash: hash, rules, countingExpired: true).live else { return false }
        shard.bump(item, now: rules.now)
        if let newExptime { item.header.exptime = newExptime }
        body(item)
        return true
    }

    /// For `lockgen`: the item under `key` and whether it is fresh, a stale copy, or missing.
    /// With `early`, a fresh value with an exptime may come back ``ValueFreshness/expiring``:
    /// the XFetch test (``EarlyRecompute``) with the item's own Δ, on the server clock in ms.
    /// The item is retained for the caller.
    public func generationLookup(_ key: UnsafeRawBufferPointer, early: EarlyRecomputeDraw? = nil) -> (ValueFreshness, Item?) {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        switch shard.find(key, hash: hash, rules) {
        case .live(let item):
            // Meta's marks (docs/protocol.md, "Meta and lock verbs on one key"): an `mg N`
            // placeholder is a claim, not a value; an `md I` item is due for regeneration.
            if item.header.status & Item.Status.placeholder != 0 { return (.missing, nil) }
            item.retain()
            if item.header.status & Item.Status.metaStale != 0 { return (.stale, item) }
            shard.bump(item, now: rules.now)
            if let early, isDrawnForRecompute(item, early) { return (.expiring, item) }
            return (.fresh, item)
        case .stale(let item):
            item.retain()
            return (.stale, item)
        case .none:
            return (.missing, nil)
        }
    }

    /// `lockgen`'s fast path: when the value under `key` is fresh (and not drawn for early
    /// recompute), runs `onFresh` on it under the shard lock, as ``read(_:newExptime:_:)`` does,
    /// and answers `.fresh`; otherwise answers what ``generationLookup(_:early:)`` would,
    /// touching nothing, for the caller to decide under the lock table.
    @inline(__always)
    public func readIfFresh(_ key: UnsafeRawBufferPointer, early: EarlyRecomputeDraw? = nil, _ onFresh: (Item) -> Void) -> ValueFreshness {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        guard let item = shard.lookup(key, hash: hash), rules.classify(item) == .live,
              item.header.status & (Item.Status.placeholder | Item.Status.metaStale) == 0 else { return .missing }
        if let early, isDrawnForRecompute(item, early) { return .expiring }
        shard.bump(item, now: rules.now)
        onFresh(item)
        return .fresh
    }

    /// The XFetch test (``EarlyRecompute``) for a fresh item with an exptime, with the item's own
    /// Δ, on the server clock in ms. Requires the item's shard lock.
    @inline(__always)
    private func isDrawnForRecompute(_ item: Item, _ early: EarlyRecomputeDraw) -> Bool {
        item.header.exptime != 0 && EarlyRecompute.shouldRecompute(
            now: clock.nowMilliseconds(), expiry: Int64(item.header.exptime) * 1000,
            delta: Int64(item.header.regenerationMilliseconds), beta: early.beta, uniform: early.uniform)
    }

    /// Updates the exptime of a live item (`touch`). Returns whether the key was found.
    public func touch(_ key: UnsafeRawBufferPointer, exptime: UInt32) -> Bool {
        guard let item = get(key, newExptime: exptime) else { return false }
        item.release()
        return true
    }

    // MARK: - Writes

    /// Stores a value under memcached's rules for `verb`. `exptime` is a ``ServerClock`` reading;
    /// `casUnique` is used by `.cas` only.
    public func store(
        _ verb: StoreVerb, key: UnsafeRawBufferPointer, flags: UInt32, exptime: UInt32,
        casUnique: UInt64 = 0, value: UnsafeRawBufferPointer
    ) -> StoreOutcome {
        let (outcome, item) = storeReturningItem(verb, key: key, flags: flags, exptime: exptime, casUnique: casUnique, value: value)
        item?.release()
        return outcome
    }

    /// ``store(_:key:flags:exptime:casUnique:value:)``, also returning the item it linked
    /// (retained for the caller). `keepingOnFailure`: a `set` that cannot be stored leaves the
    /// old item (a stale copy included) in place; `setgen` needs this, since a failed `setgen`
    /// must change nothing. `regenerationMilliseconds`: Δ for early recompute, kept in the item.
    public func storeReturningItem(
        _ verb: StoreVerb, key: UnsafeRawBufferPointer, flags: UInt32, exptime: UInt32,
        casUnique: UInt64 = 0, value: UnsafeRawBufferPointer, keepingOnFailure: Bool = false,
        regenerationMilliseconds: UInt16 = 0
    ) -> (outcome: StoreOutcome, item: Item?) {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        let found = shard.find(key, hash: hash, rules)
        let existing = found.live
        switch verb {
        case .set:
            break
        case .add:
            if let existing {
                shard.bumpKeepingFetched(existing, now: rules.now)
                return (.notStored, nil)
            }
        case .replace:
            if existing == nil { return (.notStored, nil) }
        case .cas:
            guard let existing else { return (.notFound, nil) }
            // memcached with -C: a `cas` never matches an existing item, whatever the unique.
            if !configuration.casEnabled || existing.header.cas != casUnique { return (.exists, nil) }
        case .append, .prepend:
            guard let existing else { return (.notStored, nil) }
            return combine(existing, with: value, key: key, hash: hash, in: shard, rules, prepend: verb == .prepend)
        }
        // A stale copy under the key is replaced too: a store ends it.
        let fresh = writeAndLink(
            key: key, hash: hash, in: shard, rules, flags: flags, exptime: exptime, valueCount: value.count,
            regenerationMilliseconds: regenerationMilliseconds, dropOnFailure: verb == .set && !keepingOnFailure
        ) { target in
            if value.count > 0 { target.copyMemory(from: value) }
        }
        return fresh.map { (.stored, $0) } ?? (.outOfMemory, nil)
    }

    /// Removes `key`, a stale copy included. Returns whether a live item was removed.
    @discardableResult
    public func delete(_ key: UnsafeRawBufferPointer) -> Bool {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        let found = shard.find(key, hash: hash, rules)
        guard let item = found.linked else { return false }
        shard.unlink(item, hash: hash)
        return found.live != nil
    }

    /// `incr`/`decr`: parses the value with `parse`, adds (wrapping at 2^64) or subtracts (stopping
    /// at 0), and stores the digits. A shorter result keeps the value's length, padded with spaces,
    /// exactly as memcached's in-place update does.
    public func arithmetic(
        _ key: UnsafeRawBufferPointer, increment: Bool, delta: UInt64,
        parse: (UnsafeRawBufferPointer) -> UInt64?
    ) -> ArithmeticOutcome {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        guard let existing = shard.find(key, hash: hash, rules).live else { return .notFound }
        let oldCount = existing.valueLength
        guard oldCount > 0, let current = existing.withValue({ parse($0) }) else { return .nonNumeric }
        let result = increment ? current &+ delta : (delta > current ? 0 : current - delta)
        var digits = DecimalDigits(result)
        let length = digits.count <= oldCount ? oldCount : digits.count
        // A result that fits is memcached's in-place update: the item keeps its marks.
        let status = length == oldCount ? existing.header.status & Item.Status.inPlaceBits : 0
        guard let fresh = writeAndLink(
            key: key, hash: hash, in: shard, rules, flags: existing.clientFlags, exptime: existing.header.exptime,
            valueCount: length, status: status, fill: { digits.copy(into: $0) }
        ) else { return .outOfMemory }
        fresh.release()
        return .value(result)
    }

    // MARK: - Maintenance

    /// Uses up one CAS unique, as memcached's `flush_all` does.
    public func consumeCASUnique() {
        _ = nextCAS()
    }

    /// Drops every item (`flush_all`).
    public func removeAll() {
        for shard in shards {
            shard.lock()
            shard.removeAll()
            shard.unlock()
        }
    }

    /// Turns every live item into a stale copy at once (soft invalidation): its stale window
    /// starts now. Items stored afterwards are unaffected.
    ///
    /// With CAS fields this is one atomic store: items are judged by their CAS against the
    /// invalidation's. Under `-C` items have no CAS field, so every shard is locked (in order,
    /// all at once, so no store lands between two shards) and each live item's exptime is
    /// brought forward to now: it turns stale now, as it would have with the CAS.
    public func invalidateSoftly() {
        guard configuration.casEnabled else {
            let now = clock.now
            for shard in shards { shard.lock() }
            defer { for shard in shards { shard.unlock() } }
            let rules = policy()
            for shard in shards { shard.expireLive(at: now, rules) }
            return
        }
        let through = casSequence.current
        softInvalidations.record(through: through, at: clock.now)
        softInvalidatedThrough.store(through, ordering: .relaxed)
    }

    /// Removes dead items and moves new stale copies to the LRU tails, in a slice of every shard;
    /// call periodically.
    public func crawlExpired(bucketsPerShard: Int = 64) {
        let rules = policy()
        for shard in shards {
            shard.lock()
            _ = shard.crawl(bucketBudget: bucketsPerShard, rules)
            shard.unlock()
        }
    }

    /// Bytes currently counted against the limit: the segments mapped (those released but still
    /// held by a reader included).
    public var bytesUsed: Int { memory.value }

    /// Zeroes the counters memcached's `stats reset` clears (evictions, reclaimed, total items,
    /// ...); current items and bytes are state, not counters, and stay.
    public func resetStatistics() {
        for shard in shards {
            shard.lock()
            shard.resetCounters()
            shard.unlock()
        }
    }

    /// Counters summed over all shards.
    public func statistics() -> StoreStatistics {
        var total = StoreStatistics()
        for shard in shards {
            shard.lock()
            total.add(shard.statistics)
            shard.unlock()
        }
        return total
    }
}
