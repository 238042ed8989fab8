/// The store operations of the meta commands, each one shard-lock hold, as memcached does them
/// under its item lock.
extension Store {
    /// Runs `body` on the live item under `key`, holding its shard's lock. With `vivify`, a miss
    /// first creates an empty placeholder (CAS assigned, exptime 0 until the caller sets it) and
    /// `created` is true. A miss without it (or when memory is full and eviction is off) passes
    /// nil. Expired items and lockgen's stale copies are misses, as memcached sees them; a
    /// placeholder replaces a stale copy.
    public func withMetaItem<R>(
        _ key: UnsafeRawBufferPointer, vivify: Bool, _ body: (MetaItem?, _ created: Bool) -> R
    ) -> R {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        let found = shard.find(key, hash: hash, rules, countingExpired: true)
        if let item = found.live { return body(MetaItem(item: item, shard: shard, now: rules.now, casVisible: configuration.casEnabled), false) }
        guard vivify else { return body(nil, false) }
        // Written only on this miss (under the lock, as memcached does): clients send N on
        // every read, and a hit must not pay for a placeholder it throws away.
        guard let fresh = writeAndLink(
            key: key, hash: hash, in: shard, rules, flags: 0, exptime: 0, valueCount: 0, status: Item.Status.placeholder, fill: { _ in }
        ) else { return body(nil, false) }
        fresh.release()   // the lock is held for the whole body
        return body(MetaItem(item: fresh, shard: shard, now: rules.now, casVisible: configuration.casEnabled), true)
    }

    /// `ms`: stores `value` under memcached 1.6.18's `do_store_item` rules for `mode`. A
    /// compare-and-swap with `invalidate` (`I`) whose CAS is *older* than the item's still stores,
    /// marked stale, keeping the item's exptime and its win mark.
    public func metaStore(
        _ mode: MetaStoreMode, key: UnsafeRawBufferPointer, flags: UInt32, exptime: UInt32,
        compareCAS: UInt64, invalidate: Bool, binaryKey: Bool, value: UnsafeRawBufferPointer
    ) -> (outcome: MetaStoreOutcome, item: Item?) {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        let found = shard.find(key, hash: hash, rules)
        let existing = found.live
        var storedExptime = exptime
        var status: UInt8 = 0
        switch mode {
        case .set:
            break
        case .add:
            if let existing {
                shard.bumpKeepingFetched(existing, now: rules.now)
                return (.notStored, nil)
            }
        case .replace:
            if existing == nil { return (.notStored, nil) }
        case .compareAndSwap:
            guard let existing else { return (.notFound, nil) }
            // memcached with -C: `ms C` never matches an existing item (EX), not even with C0.
            if !configuration.casEnabled { return (.exists, nil) }
            if existing.header.cas != compareCAS {
                // (A CAS of 0 never counts as older: memcached answers EX.)
                guard invalidate, compareCAS != 0, compareCAS < existing.header.cas else { return (.exists, nil) }
                storedExptime = existing.header.exptime
                status = Item.Status.metaStale | (existing.header.status & Item.Status.winTokenSent)
            }
        case .append, .prepend:
            guard let existing else { return (.notStored, nil) }
            // A supplied CAS must match; without one (or with 0) anything goes. Under -C memcached
            // has nowhere to keep the supplied CAS, so it is not compared at all.
            if configuration.casEnabled && compareCAS != 0 && compareCAS != existing.header.cas { return (.exists, nil) }
            // memcached builds an appended value as a new item that never carries the binary-key mark.
            let (outcome, fresh) = combine(existing, with: value, key: key, hash: hash, in: shard, rules, prepend: mode == .prepend)
            guard let fresh else { return (outcome == .outOfMemory ? .outOfMemory : .notStored, nil) }
            return (.stored(cas: clientCAS(fresh)), fresh)
        }
        if binaryKey { status |= Item.Status.binaryKey }
        guard let fresh = writeAndLink(
            key: key, hash: hash, in: shard, rules, flags: flags, exptime: storedExptime, valueCount: value.count,
            status: status, dropOnFailure: true, fill: { target in if value.count > 0 { target.copyMemory(from: value) } }
        ) else { return (.outOfMemory, nil) }
        return (.stored(cas: clientCAS(fresh)), fresh)
    }

    /// `md`: removes the live item under `key`, or with `invalidate` marks it stale (new CAS,
    /// win mark cleared so the next `mg` wins, exptime replaced when `newExptime` is given). With
    /// a `compareCAS`, only when it matches.
    public func metaDelete(
        _ key: UnsafeRawBufferPointer, compareCAS: UInt64?, invalidate: Bool, newExptime: UInt32?
    ) -> MetaDeleteOutcome {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        let found = shard.find(key, hash: hash, rules)
        guard let item = found.live else {
            // A stale copy goes as with `delete`: the key is gone for lockgen too.
            if let stale = found.linked, !invalidate, compareCAS == nil { shard.unlink(stale, hash: hash) }
            return .notFound
        }
        if let compareCAS, compareCAS != clientCAS(item) { return .exists }
        guard invalidate else {
            shard.unlink(item, hash: hash)
            return .deleted
        }
        if let newExptime { item.header.exptime = newExptime }
        item.header.status = (item.header.status | Item.Status.metaStale) & ~Item.Status.winTokenSent
        item.header.cas = nextCAS()
        return .invalidated
    }

    /// `ma`: memcached's `do_add_delta` (an empty value is not a number; a non-zero
    /// `compareCAS` must match; increments wrap, decrements stop at 0; a shorter result keeps the
    /// value's length, padded with spaces, and the item's meta marks, as memcached's in-place
    /// update does). On a miss with `vivify`, the item is created holding `vivify.initial`.
    /// `hitExptime` / `createdExptime`: the exptime the request's `T`/`N` flags leave (`T` only
    /// sticks when the result fits in place, as in memcached).
    public func metaArithmetic(
        _ key: UnsafeRawBufferPointer, increment: Bool, delta: UInt64, compareCAS: UInt64,
        vivify: UInt64?, hitExptime: UInt32?, createdExptime: UInt32?,
        parse: (UnsafeRawBufferPointer) -> UInt64?
    ) -> (outcome: MetaArithmeticOutcome, item: Item?) {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        let found = shard.find(key, hash: hash, rules)
        guard let existing = found.live else {
            guard let initial = vivify else { return (.notFound, nil) }
            var digits = DecimalDigits(initial)
            guard let fresh = writeAndLink(
                key: key, hash: hash, in: shard, rules, flags: 0, exptime: createdExptime ?? 0, valueCount: digits.count,
                fill: { digits.copy(into: $0) }
            ) else { return (.outOfMemory, nil) }
            return (.value(initial, cas: clientCAS(fresh), exptime: 0, created: true), fresh)
        }
        let oldCount = existing.valueLength
        guard oldCount > 0 else { return (.nonNumeric, nil) }
        if compareCAS != 0 && compareCAS != clientCAS(existing) { return (.exists, nil) }
        guard let current = existing.withValue({ parse($0) }) else { return (.nonNumeric, nil) }
        let result = increment ? current &+ delta : (delta > current ? 0 : current - delta)
        var digits = DecimalDigits(result)
        let inPlace = digits.count <= oldCount
        let previousExptime = existing.header.exptime
        // memcached applies T to the item it updated in place; a longer result is a new item
        // made with the old exptime, and T then lands on the replaced one (so is lost).
        guard let fresh = writeAndLink(
            key: key, hash: hash, in: shard, rules, flags: existing.clientFlags,
            exptime: inPlace ? (hitExptime ?? previousExptime) : previousExptime,
            valueCount: inPlace ? oldCount : digits.count,
            status: inPlace ? existing.header.status & Item.Status.inPlaceBits : 0,
            fill: { digits.copy(into: $0) }
        ) else { return (.outOfMemory, nil) }
        return (.value(result, cas: clientCAS(fresh), exptime: previousExptime, created: false), fresh)
    }

    /// `me`: what memcached's debug line shows about the live item under `key`, without
    /// bumping it.
    public func metaDebug(_ key: UnsafeRawBufferPointer) -> MetaDebugSnapshot? {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        guard let item = shard.find(key, hash: hash, rules).live else { return nil }
        let header = item.header
        // memcached's item: a 48-byte header, the key and a NUL, the value and CRLF, 4 bytes of
        // client flags when they are not 0, and the 8-byte CAS unless -C left it out.
        let size = 48 + Int(header.keyCount) + 1 + Int(header.valueCount) + 2 + (header.flags == 0 ? 0 : 4)
            + (configuration.casEnabled ? 8 : 0)
        return MetaDebugSnapshot(
            exptime: header.exptime, lastAccess: header.lastAccess, cas: clientCAS(item),
            fetched: header.status & Item.Status.fetched != 0,
            binaryKey: header.status & Item.Status.binaryKey != 0, memcachedSize: size)
    }

    /// Marks the live item under `key` as having handed out its recache win, so `mg` answers `Z`
    /// while a lockgen regeneration is under way.
    public func markWinTokenSent(_ key: UnsafeRawBufferPointer) {
        let hash = KeyHash.hash(key)
        let shard = shard(for: hash)
        let rules = policy()
        shard.lock()
        defer { shard.unlock() }
        shard.find(key, hash: hash, rules).live?.header.status |= Item.Status.winTokenSent
    }
}
