import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One partition of a ``Store``: a lock, a chained hash table, and the segments its items live in.
///
/// Items are appended to the shard's *open* segment; full segments queue up oldest first, and
/// memory is won back a segment at a time (``reclaim(_:)``, in Shard+Segments.swift): by
/// compacting the segment with the most garbage, or the oldest one with a second chance for the
/// items read since. All methods require the caller to hold the lock.
final class Shard {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Bucket heads: item addresses, 0 for an empty bucket.
    var buckets: UnsafeMutablePointer<UInt>
    var bucketMask: Int
    var count = 0
    var crawlCursor = 0

    /// Full segments (and solo ones), oldest first.
    var segments: [Segment] = [] { didSet { publishMappedBytes() } }
    /// The segment new items are appended to.
    var open: Segment? { didSet { publishMappedBytes() } }
    /// Bytes of the segments this shard holds, readable without its lock (other shards compare
    /// it when they rebalance memory between shards).
    let mappedBytes = Atomic<Int>(0)

    private func publishMappedBytes() {
        mappedBytes.store(segments.reduce(open?.mappedSize ?? 0) { $0 + $1.mappedSize }, ordering: .relaxed)
    }
    /// The size of new shared segments (it follows the store's limit when that changes).
    private(set) var segmentSize: Int
    /// Items larger than this get a segment of their own.
    private(set) var soloThreshold: Int

    /// Bytes of the linked items (their sizes in their segments).
    var bytes = 0
    /// Counters reported by `stats`.
    var totalItems: UInt64 = 0
    var evictions: UInt64 = 0
    var reclaimed: UInt64 = 0
    var expiredUnfetched: UInt64 = 0
    var evictedUnfetched: UInt64 = 0
    /// Reads that found their key past its exptime (memcached's `get_expired`).
    var getExpired: UInt64 = 0
    /// Items moved by compaction (kept for a second chance, or out of a mostly empty segment).
    var compactionMoves: UInt64 = 0
    /// Per memcached slab class (index = class id): `stats items`.
    var classFigures = [ClassFigures](repeating: ClassFigures(), count: MemcachedSlabClasses.count + 1)

    /// The store-wide count of mapped segment bytes, which the memory limit applies to.
    let memory: MemoryCounter

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

    init(memory: MemoryCounter, segmentSize: Int, initialBuckets: Int = 256) {
        self.memory = memory
        self.segmentSize = segmentSize
        self.soloThreshold = Self.soloThreshold(segmentSize)
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        buckets = .allocate(capacity: initialBuckets)
        buckets.initialize(repeating: 0, count: initialBuckets)
        bucketMask = initialBuckets - 1
    }

    deinit {
        removeAll()
        buckets.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// An eighth of a segment, and never more than ``Segment/largestSharedItem``.
    static func soloThreshold(_ segmentSize: Int) -> Int {
        min(segmentSize / 8, Segment.largestSharedItem)
    }

    /// Makes new shared segments `size` bytes (the store's limit changed). Requires the lock.
    func useSegments(of size: Int) {
        segmentSize = size
        soloThreshold = Self.soloThreshold(size)
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func tryLock() -> Bool { pthread_mutex_trylock(mutex) == 0 }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    static func item(_ bits: UInt) -> Item? {
        UnsafeMutableRawPointer(bitPattern: bits).map(Item.init)
    }

    /// The linked item with `key`, whether or not it has expired.
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Item? {
        var cursor = Self.item(buckets[Int(truncatingIfNeeded: hash) & bucketMask])
        while let item = cursor {
            if item.hasKey(key) { return item }
            cursor = item.header.hashNext
        }
        return nil
    }

    /// The item under `key` and how fresh it is. A stale copy is counted in its segment's
    /// garbage, so compaction drops it before any live item; one past its stale window is
    /// unlinked (memcached's lazy expiry).
    ///
    /// `countingExpired`: a read (`get`, `gets`, `gat`) that finds the key past its exptime counts
    /// it as memcached's `get_expired`.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer, hash: UInt64, _ policy: StalePolicy, countingExpired: Bool = false) -> Lookup {
        guard let item = lookup(key, hash: hash) else { return .none }
        switch policy.classify(item) {
        case .live:
            return .live(item)
        case .stale:
            if countingExpired { getExpired &+= 1 }
            countStale(item)
            return .stale(item)
        case .dead:
            if countingExpired { getExpired &+= 1 }
            reclaim(item, hash: hash)
            return .none
        }
    }

    /// Counts a linked stale copy in its segment's garbage (once).
    func countStale(_ item: Item) {
        let status = item.header.status
        guard status & Item.Status.countedStale == 0 else { return }
        item.header.status = status | Item.Status.countedStale
        item.segment.staleBytes += item.size
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

    /// Adds `item` (written in one of this shard's segments) at the head of its bucket;
    /// `sequence` is its place in the store's order of writes.
    func link(_ item: Item, hash: UInt64, now: UInt32, sequence: UInt64) {
        let index = Int(truncatingIfNeeded: hash) & bucketMask
        item.header.hashNext = Self.item(buckets[index])
        buckets[index] = UInt(bitPattern: item.pointer)
        item.header.lastAccess = now
        item.header.status |= Item.Status.linked
        count += 1
        totalItems &+= 1
        let size = item.size
        bytes += size
        let segment = item.segment
        segment.liveBytes += size
        segment.newestWrite = max(segment.newestWrite, sequence)
        let memcachedSize = MemcachedSlabClasses.memcachedSize(of: item.header)
        let id = MemcachedSlabClasses.fastClassID(forTotal: memcachedSize)
        classFigures[id].number += 1
        classFigures[id].memoryRequested += memcachedSize
        // Chains average up to two items: 8 bytes of table per item at most, 4 on average.
        if count > 2 * (bucketMask + 1) { grow() }
    }

    /// Removes `item` from its bucket; its bytes become garbage in its segment.
    func unlink(_ item: Item, hash: UInt64) {
        replaceInChain(item, hash: hash, with: item.header.hashNext)
        item.header.hashNext = nil
        let status = item.header.status
        item.header.status = status & ~(Item.Status.linked | Item.Status.countedStale)
        count -= 1
        let size = item.size
        bytes -= size
        let segment = item.segment
        segment.liveBytes -= size
        if status & Item.Status.countedStale != 0 { segment.staleBytes -= size }
        let memcachedSize = MemcachedSlabClasses.memcachedSize(of: item.header)
        let id = MemcachedSlabClasses.fastClassID(forTotal: memcachedSize)
        classFigures[id].number -= 1
        classFigures[id].memoryRequested -= memcachedSize
        // A large item's own segment goes with it (compaction never visits solo segments). The
        // item's bytes may be unmapped from here on: nothing below touches them.
        if segment.isSolo, let index = segments.firstIndex(of: segment) {
            segments.remove(at: index)
            segment.releaseFromShard()
        }
    }

    /// Points whatever points at `item` in its chain (the bucket head or the previous item) at
    /// `replacement` instead.
    func replaceInChain(_ item: Item, hash: UInt64, with replacement: Item?) {
        let index = Int(truncatingIfNeeded: hash) & bucketMask
        let target = UInt(bitPattern: item.pointer)
        let replacementBits = UInt(bitPattern: replacement?.pointer)
        if buckets[index] == target {
            buckets[index] = replacementBits
            return
        }
        var cursor = Self.item(buckets[index])
        while let previous = cursor {
            let next = previous.header.hashNext
            if next == item {
                previous.header.hashNext = replacement
                return
            }
            cursor = next
        }
        preconditionFailure("an item to unlink is not in its hash chain")
    }

    /// Marks `item` read: fetched (meta's `h`), active (compaction keeps it), and its access time.
    @inline(__always)
    func bump(_ item: Item, now: UInt32) {
        item.header.status |= Item.Status.fetched | Item.Status.active
        item.header.lastAccess = now
    }

    /// ``bump(_:now:)`` without marking the item fetched: memcached's failed `add` refreshes
    /// the item but does not count as a read (meta's `h` tells the difference).
    func bumpKeepingFetched(_ item: Item, now: UInt32) {
        item.header.status |= Item.Status.active
        item.header.lastAccess = now
    }

    @inline(__always)
    static func classID(of item: Item) -> Int {
        MemcachedSlabClasses.fastClassID(forTotal: MemcachedSlabClasses.memcachedSize(of: item.header))
    }

    private func grow() {
        let oldCount = bucketMask + 1
        let newCount = oldCount * 2
        let newBuckets = UnsafeMutablePointer<UInt>.allocate(capacity: newCount)
        newBuckets.initialize(repeating: 0, count: newCount)
        let newMask = newCount - 1
        for index in 0..<oldCount {
            var cursor = Self.item(buckets[index])
            while let item = cursor {
                cursor = item.header.hashNext
                let slot = Int(truncatingIfNeeded: item.withKey { KeyHash.hash($0) }) & newMask
                item.header.hashNext = Self.item(newBuckets[slot])
                newBuckets[slot] = UInt(bitPattern: item.pointer)
            }
        }
        buckets.deallocate()
        buckets = newBuckets
        bucketMask = newMask
        crawlCursor = 0
    }
}
