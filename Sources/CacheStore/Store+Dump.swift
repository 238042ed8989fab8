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

    /// Sets the memory limit to `bytes`; when evictions are on, releases segments until the
    /// mapped memory fits, each time the oldest segment of the whole store, so the oldest items
    /// go first and the memory goes back to the OS. Returns the items evicted.
    @discardableResult
    public func resize(to bytes: Int) -> Int {
        memoryLimit = bytes
        guard configuration.evictionEnabled else { return 0 }
        let rules = policy()
        let before = statistics().currentItems
        while bytesUsed > bytes {
            var oldest: (shard: Shard, age: UInt64)?
            for shard in shardList {
                shard.lock()
                let age = shard.oldestSegmentAge
                shard.unlock()
                guard let age, age < oldest?.age ?? .max else { continue }
                oldest = (shard, age)
            }
            guard let shard = oldest?.shard else { break }
            shard.lock()
            shard.releaseOldest(rules)
            shard.unlock()
        }
        return max(0, before - statistics().currentItems)
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
