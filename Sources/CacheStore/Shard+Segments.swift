/// Where a shard's items are written, and how its memory is won back.
///
/// Memory is counted in whole mapped segments (``MemoryCounter``), so the limit bounds what the
/// process really holds. Winning memory back never frees single items: a segment is either
/// *compacted* in place (the items worth keeping slide to its front, the rest are unlinked, and
/// it becomes the open segment again) or *released* whole (every item unlinked, and the segment
/// unmapped once no reader holds it).
extension Shard {
    /// Room for `size` bytes in the open segment, if there is some.
    @inline(__always)
    func allocateInOpen(_ size: Int) -> UnsafeMutableRawPointer? {
        open?.allocate(size)
    }

    /// Maps a fresh open segment if the store stays within `limit`; the previous open segment
    /// joins the full ones. When a whole segment does not fit but `atLeast` bytes would, a
    /// smaller one is mapped (memory full of large items still takes small ones, as
    /// memcached's slab classes do). False when the limit or the kernel refuses.
    func openNewSegment(limit: Int, atLeast size: Int) -> Bool {
        var mapped = Segment.map(size: segmentSize, solo: false, memory: memory, limit: limit)
        if mapped == nil {
            let available = (limit - memory.value) & ~(Segment.pageSize - 1)
            if available >= Segment.headerSize + size && available < segmentSize {
                mapped = Segment.map(size: available, solo: false, memory: memory, limit: limit)
            }
        }
        guard let segment = mapped else { return false }
        if let previous = open { segments.append(previous) }
        open = segment
        return true
    }

    /// Maps a segment of its own for an item of `size` bytes, if the store stays within `limit`,
    /// and returns the item's place.
    func allocateSolo(_ size: Int, limit: Int) -> UnsafeMutableRawPointer? {
        guard let segment = Segment.map(size: Segment.soloSize(for: size), solo: true, memory: memory, limit: limit) else { return nil }
        segments.append(segment)
        return segment.allocate(size)
    }

    /// Makes room in this shard without mapping more memory. Compacts, in order of preference:
    /// the full segment with the most garbage, when that is at least an eighth of a segment
    /// (deleted and replaced items, and stale copies: no live item is lost); otherwise the
    /// oldest full segment, keeping only the items read since it was last compacted (each
    /// gets one second chance). A solo segment, or one a reader still holds, is released whole.
    /// Returns false when the shard has nothing to give.
    func reclaim(_ policy: StalePolicy) -> Bool {
        if segments.isEmpty {
            guard let current = open else { return false }
            // One segment holds everything: compact it where it is.
            guard current.isUnshared else { return releaseOpen(policy) }
            compact(current, keepingAllLive: false, keepingStale: false, policy)
            return true
        }
        var victimIndex = 0
        var mostGarbage = 0
        for (index, segment) in segments.enumerated() where !segment.isSolo {
            let garbage = segment.garbage
            if garbage > mostGarbage && segment.isUnshared {
                mostGarbage = garbage
                victimIndex = index
            }
        }
        let keepingAllLive = mostGarbage >= segmentSize / 8
        if !keepingAllLive { victimIndex = 0 }
        let victim = segments[victimIndex]
        guard !victim.isSolo, victim.isUnshared else {
            segments.remove(at: victimIndex)
            releaseWhole(victim, policy)
            return true
        }
        segments.remove(at: victimIndex)
        compact(victim, keepingAllLive: keepingAllLive, keepingStale: false, policy)
        if let previous = open { segments.append(previous) }
        open = victim
        return true
    }

    /// Makes room without losing any item a client could still read (evictions are off, `-M`):
    /// compacts the segment with the most garbage (items deleted, replaced or past their
    /// stale window; stale copies stay, as `lockgen` still serves them). Returns false when no
    /// segment has any.
    func reclaimGarbageOnly(_ policy: StalePolicy) -> Bool {
        var victim: Segment?
        var mostGarbage = 0
        for segment in segments + (open.map { [$0] } ?? []) where !segment.isSolo && segment.isUnshared {
            let garbage = segment.used - Segment.headerSize - segment.liveBytes
            if garbage > mostGarbage {
                mostGarbage = garbage
                victim = segment
            }
        }
        guard let victim else { return false }
        compact(victim, keepingAllLive: true, keepingStale: true, policy)
        if victim != open {
            segments.removeAll { $0 == victim }
            if let previous = open { segments.append(previous) }
            open = victim
        }
        return true
    }

    /// Unmaps every segment that holds no linked item (all its items deleted, replaced or
    /// expired), the open one included: memory won back without losing anything, for a store
    /// that needs more than compaction can give (a large item, or a segment in another shard).
    /// Returns whether it released any.
    func releaseEmptySegments() -> Bool {
        var released = false
        segments.removeAll { segment in
            guard segment.liveBytes == 0 else { return false }
            segment.releaseFromShard()
            released = true
            return true
        }
        if let current = open, current.liveBytes == 0, current.used > Segment.headerSize {
            open = nil
            current.releaseFromShard()
            released = true
        }
        return released
    }

    /// How recent the items of the segment ``releaseOldest(_:)`` would release are (its
    /// newest item's CAS sequence), nil when the shard has none.
    var oldestSegmentAge: UInt64? { segments.first?.newestWrite ?? open?.newestWrite }

    /// Releases this shard's oldest segment whole (the open one when it has no other): for a
    /// store that must give memory back (another shard is full, or the limit shrank). Returns
    /// the bytes that go back once no reader holds them (0 when the shard is empty).
    @discardableResult
    func releaseOldest(_ policy: StalePolicy) -> Int {
        if !segments.isEmpty {
            let victim = segments.removeFirst()
            let size = victim.mappedSize
            releaseWhole(victim, policy)
            return size
        }
        guard let current = open else { return 0 }
        let size = current.mappedSize
        _ = releaseOpen(policy)
        return size
    }

    private func releaseOpen(_ policy: StalePolicy) -> Bool {
        guard let current = open else { return false }
        open = nil
        releaseWhole(current, policy)
        return true
    }

    /// Unlinks every item of `segment` (counted as evicted or reclaimed) and drops the shard's
    /// reference to it.
    func releaseWhole(_ segment: Segment, _ policy: StalePolicy) {
        forEachItem(in: segment) { item in
            guard item.header.status & Item.Status.linked != 0 else { return }
            evict(item, policy)
        }
        segment.releaseFromShard()
    }

    /// Unlinks a live or stale item to make room, counting it as memcached does.
    private func evict(_ item: Item, _ policy: StalePolicy) {
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
        unlink(item, hash: hash)
    }

    /// Slides the items worth keeping to the front of `segment` (which nobody but this shard
    /// references), unlinking the others: stale copies and dead items always go; live items
    /// stay when `keepingAllLive`, otherwise only those read since the last compaction, and at
    /// most three quarters of the segment, so every compaction frees at least a quarter.
    /// `keepingStale` keeps stale copies too (evictions off).
    func compact(_ segment: Segment, keepingAllLive: Bool, keepingStale: Bool, _ policy: StalePolicy) {
        var cursor = Segment.headerSize
        var kept = 0
        let keepLimit = keepingAllLive ? Int.max : (segment.mappedSize - Segment.headerSize) * 3 / 4
        forEachItem(in: segment) { item in
            let status = item.header.status
            guard status & Item.Status.linked != 0 else { return }
            let size = item.size
            let freshness = policy.classify(item)
            let keep = (freshness == .live || (keepingStale && freshness == .stale))
                && (keepingAllLive || status & Item.Status.active != 0)
                && kept + size <= keepLimit
            guard keep else {
                if freshness == .live { evict(item, policy) } else { reclaim(item, hash: item.withKey { KeyHash.hash($0) }) }
                return
            }
            item.header.status = status & ~Item.Status.active
            kept += size
            let destination = segment.base + cursor
            cursor += size
            guard destination != item.pointer else { return }
            let hash = item.withKey { KeyHash.hash($0) }
            destination.copyMemory(from: item.pointer, byteCount: size)   // memmove: may overlap
            replaceInChain(item, hash: hash, with: Item(destination))
            compactionMoves &+= 1
        }
        segment.used = cursor
        segment.liveBytes = kept
        if !keepingStale { segment.staleBytes = 0 }
    }

    /// Calls `body` with every item written in `segment`, in order. `body` may unlink the item
    /// or move it towards the front (the walk has read its size before).
    func forEachItem(in segment: Segment, _ body: (Item) -> Void) {
        var offset = Segment.headerSize
        let end = segment.used
        while offset < end {
            let item = Item(segment.base + offset)
            let size = item.size
            body(item)
            offset += size
        }
    }

    /// Drops every segment (after ``removeAll()`` has unlinked the items).
    func releaseSegments() {
        for segment in segments { segment.releaseFromShard() }
        segments.removeAll()
        open?.releaseFromShard()
        open = nil
    }
}
