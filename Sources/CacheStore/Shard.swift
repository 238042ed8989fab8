#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One partition of a ``Store``: a lock, a chained hash table and an LRU list.
///
/// Every linked item carries one retain owned by the shard (taken in ``link(_:hash:)``, given back
/// in ``unlink(_:hash:)``), so the table and the list can use `Unmanaged` links without ARC
/// traffic on lookups. All methods require the caller to hold the lock.
final class Shard {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var buckets: UnsafeMutablePointer<Unmanaged<Item>?>
    private var bucketMask: Int
    private(set) var count = 0
    private var lruHead: Unmanaged<Item>?
    private var lruTail: Unmanaged<Item>?
    private var crawlCursor = 0

    /// Bytes of the linked items (their footprints).
    var bytes = 0
    /// Counters reported by `stats`.
    var totalItems: UInt64 = 0
    var evictions: UInt64 = 0
    var reclaimed: UInt64 = 0
    var expiredUnfetched: UInt64 = 0
    var evictedUnfetched: UInt64 = 0
    /// Reads that found their key past its exptime (memcached's `get_expired`).
    var getExpired: UInt64 = 0
    /// Per memcached slab class (index = class id): `stats items`.
    private var classFigures = [ClassFigures](repeating: ClassFigures(), count: MemcachedSlabClasses.count + 1)

    /// The store-wide byte count every link and unlink of any shard updates, so memory freed by
    /// lazy expiry, eviction, deletes and replacement is always given back in one place.
    private let memory: MemoryCounter

    /// This shard's figures; requires the lock.
    var statistics: StoreStatistics {
        var figures = StoreStatistics()
        figures.currentItems = count
        figures.bytes = bytes
        figures.totalItems = totalItems
        figures.evictions = evictions
        figures.reclaimed = reclaimed
        figures.expiredUnfetched = expiredUnfetched
        figures.evictedUnfetched = evictedUnfetched
        figures.getExpired = getExpired
        figures.classes = classFigures
        return figures
    }

    /// Zeroes the counters `stats reset` clears in memcached; current items and bytes stay.
    /// Requires the lock.
    func resetCounters() {
        totalItems = 0
        evictions = 0
        reclaimed = 0
        expiredUnfetched = 0
        evictedUnfetched = 0
        getExpired = 0
        for id in classFigures.indices { classFigures[id].resetCounters() }
    }

    init(memory: MemoryCounter, initialBuckets: Int = 256) {
        self.memory = memory
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        buckets = .allocate(capacity: initialBuckets)
        buckets.initialize(repeating: nil, count: initialBuckets)
        bucketMask = initialBuckets - 1
    }

    deinit {
        removeAll()
        buckets.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func tryLock() -> Bool { pthread_mutex_trylock(mutex) == 0 }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }

    /// The linked item with `key`, whether or not it has expired.
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Unmanaged<Item>? {
        var cursor = buckets[Int(truncatingIfNeeded: hash) & bucketMask]
        while let candidate = cursor {
            let item = candidate._withUnsafeGuaranteedRef { $0 }
            if item.hasKey(key) { return candidate }
            cursor = item.header.hashNext
        }
        return nil
    }

    /// The item under `key` and how fresh it is. A stale copy is moved to the LRU tail, so stale
    /// copies are the first to go under memory pressure; one past its stale window is unlinked
    /// (memcached's lazy expiry).
    ///
    /// `countingExpired`: a read (`get`, `gets`, `gat`) that finds the key past its exptime counts
    /// it as memcached's `get_expired`.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer, hash: UInt64, _ policy: StalePolicy, countingExpired: Bool = false) -> Lookup {
        guard let found = lookup(key, hash: hash) else { return .none }
        let item = found.takeUnretainedValue()
        switch policy.classify(item) {
        case .live:
            return .live(item)
        case .stale:
            if countingExpired { getExpired &+= 1 }
            moveToTail(found, item)
            return .stale(item)
        case .dead:
            if countingExpired { getExpired &+= 1 }
            reclaim(item, hash: hash)
            return .none
        }
    }

    /// Unlinks an expired item and counts it.
    func reclaim(_ item: Item, hash: UInt64) {
        reclaimed &+= 1
        let id = Self.classID(of: item)
        classFigures[id].reclaimed &+= 1
        if item.header.status & Item.Status.fetched == 0 {
            expiredUnfetched &+= 1
            classFigures[id].expiredUnfetched &+= 1
        }
        unlink(item, hash: hash)
    }

    /// Adds `item` at the head of its bucket and of the LRU; takes the shard's retain.
    func link(_ item: Item, hash: UInt64, now: UInt32) -> Int {
        let reference = Unmanaged.passRetained(item)
        let index = Int(truncatingIfNeeded: hash) & bucketMask
        item.header.hashNext = buckets[index]
        buckets[index] = reference
        item.header.lastAccess = now
        item.header.status |= Item.Status.linked
        pushFront(reference, item)
        count += 1
        totalItems &+= 1
        let footprint = item.footprint
        bytes += footprint
        memory.add(footprint)
        let size = MemcachedSlabClasses.memcachedSize(of: item.header)
        let id = MemcachedSlabClasses.fastClassID(forTotal: size)
        classFigures[id].number += 1
        classFigures[id].memoryRequested += size
        if count > (bucketMask + 1) + (bucketMask + 1) / 2 { grow() }
        return footprint
    }

    /// Removes `item` from its bucket and the LRU and gives back the shard's retain. Returns the
    /// bytes freed.
    @discardableResult
    func unlink(_ item: Item, hash: UInt64) -> Int {
        let target = Unmanaged.passUnretained(item).toOpaque()
        let index = Int(truncatingIfNeeded: hash) & bucketMask
        if let head = buckets[index], head.toOpaque() == target {
            buckets[index] = item.header.hashNext
        } else {
            var cursor = buckets[index]
            while let previous = cursor {
                let previousItem = previous._withUnsafeGuaranteedRef { $0 }
                if let next = previousItem.header.hashNext, next.toOpaque() == target {
                    previousItem.header.hashNext = item.header.hashNext
                    break
                }
                cursor = previousItem.header.hashNext
            }
        }
        item.header.hashNext = nil
        removeFromLRU(item)
        item.header.status &= ~Item.Status.linked
        count -= 1
        let footprint = item.footprint
        bytes -= footprint
        memory.add(-footprint)
        let size = MemcachedSlabClasses.memcachedSize(of: item.header)
        let id = MemcachedSlabClasses.fastClassID(forTotal: size)
        classFigures[id].number -= 1
        classFigures[id].memoryRequested -= size
        Unmanaged.passUnretained(item).release()
        return footprint
    }

    /// Moves `item` to the LRU head, at most once a second per item to keep the list quiet.
    @inline(__always)
    func bump(_ item: Item, now: UInt32) {
        item.header.status |= Item.Status.fetched
        guard item.header.lastAccess != now else { return }
        item.header.lastAccess = now
        removeFromLRU(item)
        pushFront(Unmanaged.passUnretained(item), item)
    }

    /// ``bump(_:now:)`` without marking the item fetched: memcached's failed `add` refreshes
    /// the item in its LRU but does not count as a read (meta's `h` tells the difference).
    func bumpKeepingFetched(_ item: Item, now: UInt32) {
        let fetched = item.header.status & Item.Status.fetched
        bump(item, now: now)
        item.header.status = (item.header.status & ~Item.Status.fetched) | fetched
    }

        /// Moves a stale copy to the LRU tail, ahead of every live item for eviction.
    private func moveToTail(_ reference: Unmanaged<Item>, _ item: Item) {
        guard lruTail?.toOpaque() != reference.toOpaque() else { return }
        removeFromLRU(item)
        item.header.lruPrevious = lruTail
        item.header.lruNext = nil
        if let tail = lruTail {
            tail._withUnsafeGuaranteedRef { $0.header.lruNext = reference }
        } else {
            lruHead = reference
        }
        lruTail = reference
    }

    /// The last access and CAS of the LRU tail (the next item to evict), nil when empty: what
    /// a store-wide eviction compares to pick the oldest tail across shards.
    var tailAge: (lastAccess: UInt32, cas: UInt64)? {
        guard let tail = lruTail else { return nil }
        return tail._withUnsafeGuaranteedRef { ($0.header.lastAccess, $0.header.cas) }
    }

    /// Evicts the least recently used item. Expired items at the tail count as reclaimed, live
    /// ones as evictions. Returns the bytes freed (0 when the shard is empty).
    func evictOldest(_ policy: StalePolicy) -> Int {
        guard let tail = lruTail else { return 0 }
        let item = tail.takeUnretainedValue()
        let hash = item.withKey { KeyHash.hash($0) }
        let id = Self.classID(of: item)
        let unfetched = item.header.status & Item.Status.fetched == 0
        if policy.classify(item) != .live {
            reclaimed &+= 1
            classFigures[id].reclaimed &+= 1
            if unfetched {
                expiredUnfetched &+= 1
                classFigures[id].expiredUnfetched &+= 1
            }
        } else {
            evictions &+= 1
            classFigures[id].evicted &+= 1
            if unfetched {
                evictedUnfetched &+= 1
                classFigures[id].evictedUnfetched &+= 1
            }
        }
        return unlink(item, hash: hash)
    }

    /// Unlinks items past their stale window from the next `bucketBudget` buckets and moves new
    /// stale copies to the LRU tail (the background crawler). Returns the bytes freed.
    func crawl(bucketBudget: Int, _ policy: StalePolicy) -> Int {
        var freed = 0
        // At least a tenth of the table per call: with the server's once-a-second call every
        // item is seen within ten seconds however large the shard, so stale copies reach the LRU
        // tail (first to go under pressure) and dead ones free their memory promptly.
        let tableSize = bucketMask + 1
        for _ in 0..<min(max(bucketBudget, tableSize / 10), tableSize) {
            crawlCursor = (crawlCursor + 1) & bucketMask
            var cursor = buckets[crawlCursor]
            while let reference = cursor {
                let item = reference.takeUnretainedValue()
                cursor = item.header.hashNext
                switch policy.classify(item) {
                case .live: break
                case .stale: moveToTail(reference, item)
                case .dead:
                    let footprint = item.footprint
                    reclaim(item, hash: item.withKey { KeyHash.hash($0) })
                    freed += footprint
                }
            }
        }
        return freed
    }

    /// Calls `body` with the live items of buckets `start...` in table order until `body` has
    /// answered false (the bucket under way is still finished, so a walk resumed from the
    /// returned bucket neither repeats nor skips an item) or the table ends; returns the bucket
    /// to resume from, nil when the shard is done.
    func forEachLive(fromBucket start: Int, _ policy: StalePolicy, _ body: (Item) -> Bool) -> Int? {
        var index = start
        while index <= bucketMask {
            var cursor = buckets[index]
            var more = true
            while let reference = cursor {
                let item = reference._withUnsafeGuaranteedRef { $0 }
                cursor = item.header.hashNext
                if policy.classify(item) == .live, !body(item) { more = false }
            }
            index += 1
            if !more { return index <= bucketMask ? index : nil }
        }
        return nil
    }

    /// Calls `body` with the live items from the most recently used on, until it answers false.
    func forEachLiveByRecency(_ policy: StalePolicy, _ body: (Item) -> Bool) {
        var cursor = lruHead
        while let reference = cursor {
            let item = reference._withUnsafeGuaranteedRef { $0 }
            cursor = item.header.lruNext
            if policy.classify(item) == .live, !body(item) { return }
        }
    }

    @inline(__always)
    private static func classID(of item: Item) -> Int {
        MemcachedSlabClasses.fastClassID(forTotal: MemcachedSlabClasses.memcachedSize(of: item.header))
    }

    /// Unlinks every item. Returns the bytes freed.
    @discardableResult
    func removeAll() -> Int {
        let freed = bytes
        memory.add(-freed)
        for index in 0...bucketMask {
            var cursor = buckets[index]
            while let reference = cursor {
                let item = reference._withUnsafeGuaranteedRef { $0 }
                cursor = item.header.hashNext
                item.header.hashNext = nil
                item.header.lruNext = nil
                item.header.lruPrevious = nil
                item.header.status &= ~Item.Status.linked
                reference.release()
            }
            buckets[index] = nil
        }
        lruHead = nil
        lruTail = nil
        count = 0
        bytes = 0
        for id in classFigures.indices {
            classFigures[id].number = 0
            classFigures[id].memoryRequested = 0
        }
        return freed
    }

    // MARK: - Internals

    private func pushFront(_ reference: Unmanaged<Item>, _ item: Item) {
        item.header.lruPrevious = nil
        item.header.lruNext = lruHead
        if let head = lruHead {
            head._withUnsafeGuaranteedRef { $0.header.lruPrevious = reference }
        } else {
            lruTail = reference
        }
        lruHead = reference
    }

    private func removeFromLRU(_ item: Item) {
        let previous = item.header.lruPrevious
        let next = item.header.lruNext
        if let previous {
            previous._withUnsafeGuaranteedRef { $0.header.lruNext = next }
        } else {
            lruHead = next
        }
        if let next {
            next._withUnsafeGuaranteedRef { $0.header.lruPrevious = previous }
        } else {
            lruTail = previous
        }
        item.header.lruPrevious = nil
        item.header.lruNext = nil
    }

    private func grow() {
        let oldCount = bucketMask + 1
        let newCount = oldCount * 2
        let newBuckets = UnsafeMutablePointer<Unmanaged<Item>?>.allocate(capacity: newCount)
        newBuckets.initialize(repeating: nil, count: newCount)
        let newMask = newCount - 1
        for index in 0..<oldCount {
            var cursor = buckets[index]
            while let reference = cursor {
                let item = reference._withUnsafeGuaranteedRef { $0 }
                cursor = item.header.hashNext
                let slot = Int(truncatingIfNeeded: item.withKey { KeyHash.hash($0) }) & newMask
                item.header.hashNext = newBuckets[slot]
                newBuckets[slot] = reference
            }
        }
        buckets.deallocate()
        buckets = newBuckets
        bucketMask = newMask
        crawlCursor = 0
    }
}
