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
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        guard let item = shard.find(key, hash: hash, rules, countingExpired: true).live else { return nil }
        shard.bump(item, now: rules.now)
        if let newExptime { item.header.exptime = newExptime }
        item.retain()
        return item
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
            if let early, item.header.exptime != 0, EarlyRecompute.shouldRecompute(
                now: clock.nowMilliseconds(), expiry: Int64(item.header.exptime) * 1000,
                delta: Int64(item.header.regenerationMilliseconds), beta: early.beta, uniform: early.uniform) {
                return (.expiring, item)
            }
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
        if let early, item.header.exptime != 0, EarlyRecompute.shouldRecompute(
            now: clock.nowMilliseconds(), expiry: Int64(item.header.exptime) * 1000,
            delta: Int64(item.header.regenerationMilliseconds), beta: early.beta, uniform: early.uniform) {
            return .expiring
        }
        shard.bump(item, now: rules.now)
        onFresh(item)
        return .fresh
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

    /// `existing`'s value with `value` added at one end, linked in its place and retained:
    /// `.notStored` when the result is too large, `.outOfMemory` when there is no room for it.
    func combine(
        _ existing: Item, with value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, hash: UInt64,
        in shard: Shard, _ rules: StalePolicy, prepend: Bool
    ) -> (outcome: StoreOutcome, item: Item?) {
        let flags = existing.clientFlags
        let total = existing.valueLength + value.count
        guard configuration.itemFits(key.count, flags, total) else { return (.notStored, nil) }
        // Making room may move or evict the old item: its value is copied out first.
        let old = existing.withValue { [UInt8]($0) }
        let fresh = writeAndLink(
            key: key, hash: hash, in: shard, rules, flags: flags, exptime: existing.header.exptime, valueCount: total
        ) { target in
            old.withUnsafeBytes { oldBytes in
                let (first, second) = prepend ? (value, oldBytes) : (oldBytes, value)
                if first.count > 0 { UnsafeMutableRawBufferPointer(rebasing: target[0..<first.count]).copyMemory(from: first) }
                if second.count > 0 { UnsafeMutableRawBufferPointer(rebasing: target[first.count...]).copyMemory(from: second) }
            }
        }
        return fresh.map { (.stored, $0) } ?? (.outOfMemory, nil)
    }

    /// Writes a new item for `key` into `shard` (whose lock is held), making room first, and
    /// links it in place of whatever is linked under the key by then (making room may have
    /// moved or evicted it). The new item gets the next CAS and the status bits `status`, and is
    /// retained for the caller. Nil when there is no memory for it; with `dropOnFailure` the
    /// old item is then removed too, as memcached's failed `set` does, so a failed write never
    /// leaves stale data behind.
    func writeAndLink(
        key: UnsafeRawBufferPointer, hash: UInt64, in shard: Shard, _ rules: StalePolicy,
        flags: UInt32, exptime: UInt32, valueCount: Int, regenerationMilliseconds: UInt16 = 0,
        status: UInt8 = 0, dropOnFailure: Bool = false, fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> Item? {
        let withCAS = configuration.casEnabled
        let size = Item.size(keyCount: key.count, valueCount: valueCount, flags: flags,
                             regenerationMilliseconds: regenerationMilliseconds, withCAS: withCAS)
        guard let place = allocate(size, in: shard, rules) else {
            if dropOnFailure, let old = shard.lookup(key, hash: hash) { shard.unlink(old, hash: hash) }
            return nil
        }
        let fresh = Item.write(
            at: place, key: key, flags: flags, exptime: exptime, valueCount: valueCount,
            regenerationMilliseconds: regenerationMilliseconds, withCAS: withCAS, fill: fill)
        if status != 0 { fresh.header.status |= status }
        if let old = shard.lookup(key, hash: hash) { shard.unlink(old, hash: hash) }
        // Under -C the item has no CAS field, but the counter still orders writes (which
        // segment is oldest) as memcached's own counter moves on every store.
        let sequence = nextCAS()
        fresh.header.cas = sequence
        shard.link(fresh, hash: hash, now: rules.now, sequence: sequence)
        fresh.retain()
        return fresh
    }

    /// Room for an item of `size` bytes in `shard` (whose lock is held): in its open segment,
    /// in a newly mapped one while the limit allows, or won back by compaction in the shard and
    /// then by releasing other shards' oldest segments. Nil when it cannot be had (memory full
    /// with evictions off, an item larger than the limit, or a kernel that refuses memory).
    func allocate(_ size: Int, in shard: Shard, _ rules: StalePolicy) -> UnsafeMutableRawPointer? {
        let limit = memoryLimit
        // The limit was lowered at run time: every store gives back segments until it holds.
        while memory.value > limit && configuration.evictionEnabled {
            if shard.releaseOldest(rules) > 0 { continue }
            if !evictFromOtherShard(excluding: shard, rules) { break }
        }
        if size > shard.soloThreshold {
            let mapped = Segment.soloSize(for: size)
            guard mapped <= limit else { return nil }
            while true {
                if let place = shard.allocateSolo(size, limit: limit) { return place }
                if shard.releaseEmptySegments() || releaseEmptySegments(excluding: shard) { continue }
                guard configuration.evictionEnabled else { return nil }
                if shard.releaseOldest(rules) > 0 { continue }
                if !evictFromOtherShard(excluding: shard, rules) { return nil }
            }
        }
        var compactions = 0
        while true {
            if let place = shard.allocateInOpen(size) { return place }
            if shard.openNewSegment(limit: limit, atLeast: size) { continue }
            guard configuration.evictionEnabled else {
                if compactions < 8, shard.reclaimGarbageOnly(rules) {
                    compactions += 1
                    continue
                }
                if releaseEmptySegments(excluding: shard) { continue }
                return nil
            }
            // A shard short of its share (after the limit shrank, or a burst on other shards)
            // takes a segment from the shard with the most, rather than compacting its own few.
            if rebalance(towards: shard, limit: limit, rules) { continue }
            // Each compaction frees an eighth of a segment or more; a few always suffice, the
            // bound only guards against a shard whose every segment is held by readers.
            if compactions < 8, shard.reclaim(rules) {
                compactions += 1
                continue
            }
            if !evictFromOtherShard(excluding: shard, rules) { return nil }
        }
    }

    /// When `shard` holds less than its share of the limit by more than a segment, releases the
    /// oldest segment of the shard holding the most (if that is over its share and its lock is
    /// free). Returns whether it did.
    private func rebalance(towards shard: Shard, limit: Int, _ rules: StalePolicy) -> Bool {
        let share = limit / shards.count
        guard shard.mappedBytes.load(ordering: .relaxed) + shard.segmentSize < share else { return false }
        var richest: Shard?
        var most = share
        for other in shards where other !== shard {
            let bytes = other.mappedBytes.load(ordering: .relaxed)
            if bytes > most {
                most = bytes
                richest = other
            }
        }
        guard let richest, richest.tryLock() else { return false }
        defer { richest.unlock() }
        return richest.releaseOldest(rules) > 0
    }

    /// Unmaps the empty segments of other shards whose lock is free now (see
    /// ``Shard/releaseEmptySegments()``). Returns whether any went.
    private func releaseEmptySegments(excluding held: Shard) -> Bool {
        var released = false
        for other in shards where other !== held && other.tryLock() {
            if other.releaseEmptySegments() { released = true }
            other.unlock()
        }
        return released
    }

    private func evictFromOtherShard(excluding held: Shard, _ rules: StalePolicy) -> Bool {
        let start = evictionCursor.wrappingAdd(1, ordering: .relaxed).oldValue
        for step in 0..<shards.count {
            let other = shards[(start &+ step) & (shards.count - 1)]
            if other === held || !other.tryLock() { continue }
            let freed = other.releaseOldest(rules)
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
