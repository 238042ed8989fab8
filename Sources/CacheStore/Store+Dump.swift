/// Listing items for memcached's dump commands, and resizing the store at run time.
extension Store {
    /// Number of shards (a dump cursor walks them in order).
    public var shardCount: Int { shardList.count }

    /// The live items of shard `shard` from bucket `bucket` on, until about `maximum` were
    /// collected (whole buckets), keeping only those `include` accepts; also returns the bucket
    /// to resume from (nil: the shard is done).
    public func dumpEntries(
        shard index: Int, fromBucket bucket: Int, maximum: Int, include: (DumpEntry) -> Bool
    ) -> (entries: [DumpEntry], next: Int?) {
        let shard = shardList[index]
        let rules = policy()
        var entries: [DumpEntry] = []
        shard.lock()
        let next = shard.forEachLive(fromBucket: bucket, rules) { item in
            let entry = Self.entry(for: item)
            if include(entry) { entries.append(entry) }
            return entries.count < maximum
        }
        shard.unlock()
        return (entries, next)
    }

    /// Calls `body` with the live items, most recently used first within each shard, shards in
    /// order, until it answers false.
    public func forEachRecentEntry(_ body: (DumpEntry) -> Bool) {
        let rules = policy()
        var more = true
        for shard in shardList where more {
            shard.lock()
            shard.forEachLiveByRecency(rules) { item in
                more = body(Self.entry(for: item))
                return more
            }
            shard.unlock()
        }
    }

    /// Sets the memory limit to `bytes`; when evictions are on, evicts until the items fit,
    /// each time the oldest shard tail (last access, then CAS), so the store as a whole loses
    /// its least recently used items first. Returns the items evicted.
    @discardableResult
    public func resize(to bytes: Int) -> Int {
        memoryLimit = bytes
        guard configuration.evictionEnabled else { return 0 }
        let rules = policy()
        var evicted = 0
        while bytesUsed > bytes {
            var oldest: (shard: Shard, age: (lastAccess: UInt32, cas: UInt64))?
            for shard in shardList {
                shard.lock()
                let age = shard.tailAge
                shard.unlock()
                guard let age else { continue }
                if let current = oldest?.age, (current.lastAccess, current.cas) <= (age.lastAccess, age.cas) { continue }
                oldest = (shard, age)
            }
            guard let shard = oldest?.shard else { break }
            shard.lock()
            let freed = shard.evictOldest(rules)
            shard.unlock()
            if freed > 0 { evicted += 1 }
        }
        return evicted
    }

    private static func entry(for item: Item) -> DumpEntry {
        let header = item.header
        // memcached's item: a 48-byte header, the key and a NUL, the value and CRLF, 4 bytes of
        // client flags when they are not 0, and the 8-byte CAS (as `me` reports it).
        let size = 48 + Int(header.keyCount) + 1 + Int(header.valueCount) + 2 + (header.flags == 0 ? 0 : 4) + 8
        let snapshot = MetaDebugSnapshot(
            exptime: header.exptime, lastAccess: header.lastAccess, cas: header.cas,
            fetched: header.status & Item.Status.fetched != 0,
            binaryKey: header.status & Item.Status.binaryKey != 0, memcachedSize: size)
        return DumpEntry(
            key: item.withKey { Array($0) }, valueLength: Int(header.valueCount), snapshot: snapshot,
            classID: MemcachedSlabClasses.classID(forTotal: size))
    }
}
