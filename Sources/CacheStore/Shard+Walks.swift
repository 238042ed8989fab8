/// Walks over a shard's items: the background crawler, the dumps, and `flush_all`.
extension Shard {
    /// Unlinks items past their stale window from the next `bucketBudget` buckets and counts new
    /// stale copies in their segments' garbage (the background crawler). Returns the bytes of
    /// the items it unlinked.
    func crawl(bucketBudget: Int, _ policy: StalePolicy) -> Int {
        var freed = 0
        // At least a tenth of the table per call: with the server's once-a-second call every
        // item is seen within ten seconds however large the shard, so stale copies are counted
        // as garbage (first to go under pressure) and dead ones are unlinked promptly.
        let tableSize = bucketMask + 1
        for _ in 0..<min(max(bucketBudget, tableSize / 10), tableSize) {
            crawlCursor = (crawlCursor + 1) & bucketMask
            var cursor = Self.item(buckets[crawlCursor])
            while let item = cursor {
                cursor = item.header.hashNext
                switch policy.classify(item) {
                case .live: break
                case .stale: countStale(item)
                case .dead:
                    freed += item.size
                    reclaim(item, hash: item.withKey { KeyHash.hash($0) })
                }
            }
        }
        return freed
    }

    /// Makes every live item expire at `now` (soft invalidation without CAS fields, `-C`).
    func expireLive(at now: UInt32, _ policy: StalePolicy) {
        for index in 0...bucketMask {
            var cursor = Self.item(buckets[index])
            while let item = cursor {
                cursor = item.header.hashNext
                if policy.classify(item) == .live { item.header.exptime = now }
            }
        }
    }

    /// Calls `body` with the live items of buckets `start...` in table order until `body` has
    /// answered false (the bucket under way is still finished, so a walk resumed from the
    /// returned bucket neither repeats nor skips an item) or the table ends; returns the bucket
    /// to resume from, nil when the shard is done.
    func forEachLive(fromBucket start: Int, _ policy: StalePolicy, _ body: (Item) -> Bool) -> Int? {
        var index = start
        while index <= bucketMask {
            var cursor = Self.item(buckets[index])
            var more = true
            while let item = cursor {
                cursor = item.header.hashNext
                if policy.classify(item) == .live, !body(item) { more = false }
            }
            index += 1
            if !more { return index <= bucketMask ? index : nil }
        }
        return nil
    }

    /// Calls `body` with the live items, the most recently written segment first, until it
    /// answers false.
    func forEachLiveByRecency(_ policy: StalePolicy, _ body: (Item) -> Bool) {
        var more = true
        let newestFirst = (open.map { [$0] } ?? []) + segments.reversed()
        for segment in newestFirst where more {
            forEachItem(in: segment) { item in
                guard more, item.header.status & Item.Status.linked != 0, policy.classify(item) == .live else { return }
                more = body(item)
            }
        }
    }

    /// Unlinks every item and gives every segment back. Returns the bytes of the items.
    @discardableResult
    func removeAll() -> Int {
        let freed = bytes
        for index in 0...bucketMask {
            var cursor = Self.item(buckets[index])
            while let item = cursor {
                cursor = item.header.hashNext
                item.header.hashNext = nil
                item.header.status &= ~(Item.Status.linked | Item.Status.countedStale)
            }
            buckets[index] = 0
        }
        count = 0
        bytes = 0
        for id in classFigures.indices {
            classFigures[id].number = 0
            classFigures[id].memoryRequested = 0
        }
        releaseSegments()
        return freed
    }
}
