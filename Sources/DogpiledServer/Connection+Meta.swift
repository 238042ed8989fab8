import CacheStore
import Coordination
import MemcacheProtocol

/// memcached 1.6.18's meta commands (`mg`, `ms`, `md`, `ma`, `me`), answered byte for byte as it
/// answers them. Reply lines are built in a small stack buffer, then queued; return flags come in
/// the order the request gave them. How meta's recache wins and lockgen's leases share a key is
/// in docs/protocol.md ("Meta and lock verbs on one key"): in short, a meta win (`W`) takes a
/// generation lease for the winning connection, and a win the lease table refuses (a lockgen
/// regeneration is under way) is answered `Z` instead.
extension Connection {
    func executeMeta(_ request: MetaRequest, _ buffer: UnsafeRawBufferPointer) {
        let raw = request.key.bytes(in: buffer)
        guard request.flags.base64Key else {
            runMeta(request, key: raw, buffer)
            return
        }
        // The decoded key lives on the stack for the request; a 250-byte token decodes to 187.
        withUnsafeTemporaryAllocation(byteCount: Base64Key.maximumDecodedCount(raw.count) + 1, alignment: 1) { scratch in
            let count = Base64Key.decode(raw, into: scratch)
            runMeta(request, key: UnsafeRawBufferPointer(rebasing: scratch[0..<count]), buffer)
        }
    }

    private func runMeta(_ request: MetaRequest, key: UnsafeRawBufferPointer, _ buffer: UnsafeRawBufferPointer) {
        var line = MetaLineWriter(worker.metaLineScratch)
        switch request.verb {
        case .get: metaGet(request, key: key, buffer, &line)
        case .set: metaSet(request, key: key, buffer, &line)
        case .delete: metaDelete(request, key: key, buffer, &line)
        case .arithmetic: metaArithmetic(request, key: key, buffer, &line)
        case .debug: metaDebug(request, key: key, &line)
        }
    }

    // MARK: - mg

    private func metaGet(_ request: MetaRequest, key: UnsafeRawBufferPointer, _ buffer: UnsafeRawBufferPointer, _ line: inout MetaLineWriter) {
        let flags = request.flags
        let store = state.regions.region(for: key).store
        let clock = state.clock
        // memcached takes the item lock (and bumps only afterwards) when a flag reads or changes
        // what a bump would: h, l, T, N, R.
        let bumpsLate = flags.has("h") || flags.has("l") || flags.has("T") || flags.has("N") || flags.has("R")
        let noBump = flags.has("u")
        let touching = flags.has("T")
        var failed = false
        var tail = MetaGetTail()
        let found: Item? = store.withMetaItem(key, vivify: flags.has("N")) { meta, created in
            guard let meta else { return nil }
            if !bumpsLate && !noBump { meta.bump() }
            if flags.has("v") {
                line.append("VA ")
                line.decimal(UInt64(meta.valueLength))
            } else {
                line.append("HD")
            }
            var won = false
            for token in request.tokens(in: buffer) {
                let letter = buffer[token.offset]
                switch letter {
                case UInt8(ascii: "T"):
                    meta.exptime = clock.expiry(fromProtocol: flags.ttl)
                case UInt8(ascii: "N"):
                    if created {
                        meta.exptime = clock.expiry(fromProtocol: flags.vivifyTTL)
                        won = true
                    }
                case UInt8(ascii: "R"):
                    let threshold = clock.expiry(fromProtocol: flags.recacheTTL)
                    if !meta.winTokenSent && !created && meta.exptime != 0 && meta.exptime < threshold { won = true }
                case UInt8(ascii: "s"):
                    line.flag(letter)
                    line.decimal(UInt64(meta.valueLength))
                case UInt8(ascii: "t"):
                    line.flag(letter)
                    Self.writeTTL(meta.exptime, now: meta.now, &line)
                case UInt8(ascii: "c"):
                    line.flag(letter)
                    line.decimal(meta.cas)
                case UInt8(ascii: "f"):
                    line.flag(letter)
                    line.decimal(UInt64(meta.clientFlags))
                case UInt8(ascii: "l"):
                    line.flag(letter)
                    line.decimal(UInt64(meta.now &- meta.lastAccess))
                case UInt8(ascii: "h"):
                    line.flag(letter)
                    line.append(byte: meta.fetched ? UInt8(ascii: "1") : UInt8(ascii: "0"))
                case UInt8(ascii: "O"):
                    // memcached finds an over-long opaque only here, after the flags before it
                    // took effect; the reply is the error alone and the item is not bumped.
                    guard token.count <= TextParser.maximumOpaqueLength else {
                        failed = true
                        return nil
                    }
                    line.append(byte: 0x20)
                    line.append(token.bytes(in: buffer))
                case UInt8(ascii: "k"):
                    meta.item.withKey { line.key($0, binary: meta.hasBinaryKey) }
                default:
                    break
                }
            }
            tail.tokenWasSent = meta.winTokenSent
            tail.stale = meta.isStale
            // A stale item hands its win to the first reader after it was marked.
            if meta.isStale && !meta.winTokenSent { won = true }
            if won {
                meta.markWinTokenSent()
                tail.won = true
                tail.leaseMilliseconds = Self.metaWinLease(meta, created: created)
            }
            if bumpsLate && !noBump { meta.bump() }
            meta.item.retain()   // its value is sent after the shard lock is released
            return meta.item
        }
        defer { found?.release() }
        if failed {
            output.append(ErrorReply.metaOpaqueTooLong.text)
            output.append("\r\n")
            return
        }
        guard let item = found else {
            statistics.add(touching ? .cmdTouch : .cmdGet)
            statistics.add(touching ? .touchMisses : .getMisses)
            metaMiss("EN", request, key: key, buffer, &line)
            return
        }
        statistics.add(touching ? .cmdTouch : .cmdGet)
        statistics.add(touching ? .touchHits : .getHits)
        // The win is arbitrated by the lease table, outside the shard lock (its lock comes first).
        if tail.won && !claimMetaWin(key, leaseMilliseconds: tail.leaseMilliseconds) {
            tail.won = false
            tail.tokenWasSent = true
        }
        if tail.tokenWasSent { line.flag(UInt8(ascii: "Z")) }
        if tail.stale { line.flag(UInt8(ascii: "X")) }
        if tail.won { line.flag(UInt8(ascii: "W")) }
        line.endLine()
        output.append(line.written)
        if request.flags.has("v") { appendData(of: item) }
    }

    /// What `mg` appends after the requested flags: `Z`, `X`, `W`.
    private struct MetaGetTail {
        var tokenWasSent = false
        var stale = false
        var won = false
        var leaseMilliseconds = 0
    }

    /// `t`: the remaining TTL in seconds as memcached prints it (-1 for none; a past exptime
    /// wraps around as memcached's unsigned subtraction does).
    static func writeTTL(_ exptime: UInt32, now: UInt32, _ line: inout MetaLineWriter) {
        if exptime == 0 {
            line.append("-1")
        } else if exptime == 1 {
            // 1 is "already expired" (a negative or past TTL). memcached's clock reads 60 more
            // than dogpiled's (its origin is 62 s before start, ours 2 s), which shows here only.
            line.decimal(UInt64(exptime &- (now &+ 60)))
        } else {
            line.decimal(UInt64(exptime &- now))
        }
    }

    /// How long a meta win holds its generation lease: the placeholder's TTL for a vivify, the
    /// item's remaining TTL for a recache or a stale item, 30 s when the item never expires;
    /// within lockgen's own bounds (1 s to an hour).
    private static func metaWinLease(_ meta: MetaItem, created: Bool) -> Int {
        let seconds = meta.exptime == 0 ? 30 : Int(meta.exptime &- meta.now)
        return min(max(seconds, 1), 3600) * 1000
    }

    /// Takes the key's generation lease for this connection's meta win (so lockgen callers wait
    /// behind it); false when a lockgen regeneration already holds it.
    func claimMetaWin(_ key: UnsafeRawBufferPointer, leaseMilliseconds: Int) -> Bool {
        usedLocks = true
        return state.leases.claimMetaWin(LockKey(key), requester: requester, leaseMilliseconds: leaseMilliseconds)
    }

    /// `EN`/`NF`/`EX` followed by the `O` and `k` flags, as memcached answers without an item.
    /// An over-long opaque answers its error instead.
    func metaMiss(
        _ code: StaticString, _ request: MetaRequest, key: UnsafeRawBufferPointer,
        _ buffer: UnsafeRawBufferPointer, _ line: inout MetaLineWriter, quietable: Bool = true
    ) {
        line.append(code)
        for token in request.tokens(in: buffer) {
            switch buffer[token.offset] {
            case UInt8(ascii: "O"):
                guard token.count <= TextParser.maximumOpaqueLength else {
                    output.append(ErrorReply.metaOpaqueTooLong.text)
                    output.append("\r\n")
                    return
                }
                line.append(byte: 0x20)
                line.append(token.bytes(in: buffer))
            case UInt8(ascii: "k"):
                line.key(key, binary: request.flags.base64Key)
            default:
                break
            }
        }
        if quietable && request.flags.quiet { return }
        line.endLine()
        output.append(line.written)
    }

    /// Queues an item's value and its CRLF, copied when small, by reference when large.
    private func appendData(of item: Item) {
        if item.valueLength <= Self.copyThreshold {
            item.withValue { output.append($0) }
        } else {
            appendByReference(item)
        }
        output.append("\r\n")
    }
}
