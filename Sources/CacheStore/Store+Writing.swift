/// Writing a new item into a shard's segments and linking it in place of the old one: what
/// every store, append, arithmetic and meta write ends in.
extension Store {
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
}
