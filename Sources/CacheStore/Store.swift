import Dogpile
import Synchronization

/// The item store: a sharded hash table with per-shard LRU lists under one memory limit.
///
/// Shards are chosen by the high bits of the key's hash, so worker threads rarely meet on a lock.
/// Memory is counted globally; a store that would exceed the limit evicts from its own shard's LRU
/// tail first and then from other shards whose lock is free at that moment (never waiting on a
/// second lock, so there is no lock-order deadlock).
public final class Store: @unchecked Sendable {
    /// The clock items expire on.
    public let clock: ServerClock
    /// The configuration in force (memory limit and stale TTL may change later).
    public let configuration: StoreConfiguration
    private let memoryBudget: Atomic<Int>

    /// The memory limit in bytes (changeable at run time, e.g. on reload).
    public var memoryLimit: Int {
        get { memoryBudget.load(ordering: .relaxed) }
        set { memoryBudget.store(newValue, ordering: .relaxed) }
    }
    private let shards: [Shard]
    /// The shards, for the dump and resize extension.
    var shardList: [Shard] { shards }
    private let shardShift: UInt64
    private let memory = MemoryCounter()
    private let casSequence: CASSequence
    private let evictionCursor = Atomic<Int>(0)
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
        self.shards = (0..<configuration.shardCount).map { _ in Shard(memory: memory) }
        self.shardShift = UInt64(64 - configuration.shardCount.trailingZeroBitCount)
        self.staleSeconds = Atomic(configuration.staleTTL)
        self.memoryBudget = Atomic(configuration.memoryLimit)
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

    /// The live item with `key`, bumped in its LRU; with `newExptime`, its exptime is updated too
    /// (`gat`, `touch`). The caller keeps the returned item alive while it sends its bytes.
    public func get(_ key: UnsafeRawBufferPointer, newExptime: UInt32? = nil) -> Item? {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        guard let item = shard.find(key, hash: hash, rules, countingExpired: true).live else { return nil }
        shard.bump(item, now: rules.now)
        if let newExptime { item.header.exptime = newExptime }
        return item
    }

    /// For `lockgen`: the item under `key` and whether it is fresh, a stale copy, or missing.
    /// With `early`, a fresh value with an exptime may come back ``ValueFreshness/expiring``:
    /// the XFetch test (``EarlyRecompute``) with the item's own Δ, on the server clock in ms.
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
            if item.header.status & Item.Status.metaStale != 0 { return (.stale, item) }
            shard.bump(item, now: rules.now)
            if let early, item.header.exptime != 0, EarlyRecompute.shouldRecompute(
                now: clock.nowMilliseconds(), expiry: Int64(item.header.exptime) * 1000,
                delta: Int64(item.header.regenerationMilliseconds), beta: early.beta, uniform: early.uniform) {
                return (.expiring, item)
            }
            return (.fresh, item)
        case .stale(let item):
            return (.stale, item)
        case .none:
            return (.missing, nil)
        }
    }

    /// Updates the exptime of a live item (`touch`). Returns whether the key was found.
    public func touch(_ key: UnsafeRawBufferPointer, exptime: UInt32) -> Bool {
        get(key, newExptime: exptime) != nil
    }

    // MARK: - Writes

    /// Stores a value under memcached's rules for `verb`. `exptime` is a ``ServerClock`` reading;
    /// `casUnique` is used by `.cas` only.
    public func store(
        _ verb: StoreVerb, key: UnsafeRawBufferPointer, flags: UInt32, exptime: UInt32,
        casUnique: UInt64 = 0, value: UnsafeRawBufferPointer
    ) -> StoreOutcome {
        storeReturningItem(verb, key: key, flags: flags, exptime: exptime, casUnique: casUnique, value: value).outcome
    }

    /// ``store(_:key:flags:exptime:casUnique:value:)``, also returning the item it linked.
    /// `keepingOnFailure`: a `set` that cannot be stored leaves the old item (a stale copy
    /// included) in place; `setgen` needs this, since a failed `setgen` must change nothing.
    /// `regenerationMilliseconds`: Δ for early recompute, kept in the item's header.
    public func storeReturningItem(
        _ verb: StoreVerb, key: UnsafeRawBufferPointer, flags: UInt32, exptime: UInt32,
        casUnique: UInt64 = 0, value: UnsafeRawBufferPointer, keepingOnFailure: Bool = false,
        regenerationMilliseconds: UInt16 = 0
    ) -> (outcome: StoreOutcome, item: Item?) {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        var fresh: Item? = nil
        if verb != .append && verb != .prepend {
            fresh = Item.make(
                key: key, flags: flags, exptime: exptime, valueCount: value.count,
                regenerationMilliseconds: regenerationMilliseconds
            ) { target in
                if value.count > 0 { target.copyMemory(from: value) }
            }
        }
        let rules = policy()
        let now = rules.now
        shard.lock()
        defer { shard.unlock() }
        let found = shard.find(key, hash: hash, rules)
        let existing = found.live
        switch verb {
        case .set:
            break
        case .add:
            if let existing {
                shard.bumpKeepingFetched(existing, now: now)
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
            fresh = combine(existing, with: value, key: key, prepend: verb == .prepend)
            if fresh == nil { return (.notStored, nil) }
        }
        // A stale copy under the key is replaced too: a store ends it.
        let outcome = replace(found.linked, with: fresh!, hash: hash, in: shard, rules, dropOnFailure: verb == .set && !keepingOnFailure)
        return (outcome, outcome == .stored ? fresh : nil)
    }

    /// The value of `existing` with `value` added at one end; nil when the result is too large.
    func combine(_ existing: Item, with value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, prepend: Bool) -> Item? {
        let oldCount = Int(existing.header.valueCount)
        let total = oldCount + value.count
        guard configuration.itemFits(key.count, existing.header.flags, total) else { return nil }
        let item = Item.make(key: key, flags: existing.header.flags, exptime: existing.header.exptime, valueCount: total) { target in
            existing.withValueAndTerminator { old in
                let oldBytes = UnsafeRawBufferPointer(rebasing: old[0..<oldCount])
                let (first, second) = prepend ? (value, oldBytes) : (oldBytes, value)
                if first.count > 0 { UnsafeMutableRawBufferPointer(rebasing: target[0..<first.count]).copyMemory(from: first) }
                if second.count > 0 { UnsafeMutableRawBufferPointer(rebasing: target[first.count...]).copyMemory(from: second) }
            }
        }
        return item
    }

    /// Links `fresh` in place of `existing` (if any), making room first. Requires the shard lock.
    /// `dropOnFailure`: a `set` that cannot be stored removes the old value, as memcached does,
    /// so a failed write never leaves stale data behind.
    func replace(
        _ existing: Item?, with fresh: Item, hash: UInt64, in shard: Shard, _ rules: StalePolicy,
        dropOnFailure: Bool = false
    ) -> StoreOutcome {
        let now = rules.now
        let needed = fresh.footprint
        // An item larger than the whole budget (a small region) can never fit: refuse it rather
        // than evict everything and still go over.
        if needed > memoryLimit {
            if dropOnFailure, let existing { shard.unlink(existing, hash: hash) }
            return .outOfMemory
        }
        if !configuration.evictionEnabled {
            let freed = existing?.footprint ?? 0
            if memory.value - freed + needed > memoryLimit {
                if dropOnFailure, let existing { shard.unlink(existing, hash: hash) }
                return .outOfMemory
            }
        }
        if let existing { shard.unlink(existing, hash: hash) }
        if configuration.evictionEnabled { makeRoom(needed, holding: shard, rules) }
        fresh.header.cas = nextCAS()
        _ = shard.link(fresh, hash: hash, now: now)
        return .stored
    }

    /// Evicts until `bytes` more fit, from `shard` (whose lock is held) and then from any other
    /// shard whose lock can be taken without waiting.
    private func makeRoom(_ bytes: Int, holding shard: Shard, _ rules: StalePolicy) {
        let limit = memoryLimit
        while memory.value + bytes > limit {
            if shard.evictOldest(rules) > 0 { continue }
            if !evictFromOtherShard(excluding: shard, rules) { return }
        }
    }

    private func evictFromOtherShard(excluding held: Shard, _ rules: StalePolicy) -> Bool {
        let start = evictionCursor.wrappingAdd(1, ordering: .relaxed).oldValue
        for step in 0..<shards.count {
            let other = shards[(start &+ step) & (shards.count - 1)]
            if other === held || !other.tryLock() { continue }
            let freed = other.evictOldest(rules)
            other.unlock()
            if freed > 0 { return true }
        }
        return false
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
        let oldCount = Int(existing.header.valueCount)
        guard oldCount > 0, let current = existing.withValueAndTerminator({ parse($0) }) else { return .nonNumeric }
        let result = increment ? current &+ delta : (delta > current ? 0 : current - delta)
        var digits = DecimalDigits(result)
        let length = digits.count <= oldCount ? oldCount : digits.count
        let fresh = Item.make(key: key, flags: existing.header.flags, exptime: existing.header.exptime, valueCount: length) { target in
            digits.copy(into: target)
        }
        // A result that fits is memcached's in-place update: the item keeps its marks.
        if length == oldCount { fresh.header.status = existing.header.status & Item.Status.inPlaceBits }
        guard replace(existing, with: fresh, hash: hash, in: shard, rules) == .stored else { return .outOfMemory }
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
    public func invalidateSoftly() {
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

    /// Bytes currently counted against the limit.
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
