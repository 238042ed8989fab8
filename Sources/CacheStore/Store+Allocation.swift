import Synchronization

/// Where a new item's bytes come from: the shard's open segment, a new segment while the limit
/// allows, or memory won back (docs/store-layout.md, "Winning memory back").
extension Store {
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
    func rebalance(towards shard: Shard, limit: Int, _ rules: StalePolicy) -> Bool {
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
    func releaseEmptySegments(excluding held: Shard) -> Bool {
        var released = false
        for other in shards where other !== held && other.tryLock() {
            if other.releaseEmptySegments() { released = true }
            other.unlock()
        }
        return released
    }

    func evictFromOtherShard(excluding held: Shard, _ rules: StalePolicy) -> Bool {
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
}
