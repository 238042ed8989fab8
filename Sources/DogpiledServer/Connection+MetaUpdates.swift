import CacheStore
import Coordination
import MemcacheProtocol

/// The meta commands that change items (`ms`, `md`, `ma`) and `me`. Every successful store
/// answers lockgen's waiters exactly as a classic store does; `md` ends the key's lease as
/// `delete` does, and `md I` ends it too, so the next reader can win the recache.
extension Connection {
    // MARK: - ms

    func metaSet(_ request: MetaRequest, key: UnsafeRawBufferPointer, _ buffer: UnsafeRawBufferPointer, _ line: inout MetaLineWriter) {
        let flags = request.flags
        let region = state.regions.region(for: key)
        statistics.add(.cmdSet)
        if request.tooLarge {
            // memcached drops the key's value whatever the mode, so no stale data survives.
            statistics.add(.storeTooLarge)
            region.store.delete(key)
            output.append("SERVER_ERROR object too large for cache\r\n")
            return
        }
        var mode: MetaStoreMode
        switch flags.mode {
        case UInt8(ascii: "E"): mode = .add
        case UInt8(ascii: "A"): mode = .append
        case UInt8(ascii: "P"): mode = .prepend
        case UInt8(ascii: "R"): mode = .replace
        default: mode = .set
        }
        if flags.has("C") && (mode == .set || mode == .replace) { mode = .compareAndSwap }
        let (outcome, item) = region.store.metaStore(
            mode, key: key, flags: flags.clientFlags,
            exptime: state.clock.expiry(fromProtocol: region.effectiveExptime(flags.ttl)),
            compareCAS: flags.compareCAS, invalidate: flags.has("I"), binaryKey: flags.base64Key,
            value: request.data.bytes(in: buffer))
        defer { item?.release() }
        var cas: UInt64 = 0
        switch outcome {
        case .stored(let stored):
            cas = stored
            if let item { state.leases.valueStored(key) { HeldItem(item) } }
            if mode == .compareAndSwap { statistics.add(.casHits) }
            if flags.quiet { return }
            line.append("HD")
        case .notStored:
            line.append("NS")
        case .exists:
            statistics.add(.casBadval)
            line.append("EX")
        case .notFound:
            statistics.add(.casMisses)
            line.append("NF")
        case .outOfMemory:
            statistics.add(.storeNoMemory)
            output.append("SERVER_ERROR out of memory storing object\r\n")
            return
        }
        for token in request.tokens(in: buffer) {
            let letter = buffer[token.offset]
            switch letter {
            case UInt8(ascii: "O"):
                line.append(byte: 0x20)
                line.append(token.bytes(in: buffer))
            case UInt8(ascii: "k"):
                line.key(key, binary: flags.base64Key)
            case UInt8(ascii: "c"):
                line.flag(letter)
                line.decimal(cas)
            default:
                break
            }
        }
        line.endLine()
        output.append(line.written)
    }

    // MARK: - md

    func metaDelete(_ request: MetaRequest, key: UnsafeRawBufferPointer, _ buffer: UnsafeRawBufferPointer, _ line: inout MetaLineWriter) {
        let flags = request.flags
        let invalidate = flags.has("I")
        let outcome = state.regions.region(for: key).store.metaDelete(
            key, compareCAS: flags.has("C") ? flags.compareCAS : nil, invalidate: invalidate,
            newExptime: invalidate && flags.has("T") ? state.clock.expiry(fromProtocol: flags.ttl) : nil)
        switch outcome {
        case .deleted, .invalidated:
            // memcached counts a removal as a delete hit; marking stale counts as nothing.
            if outcome == .deleted { statistics.add(.deleteHits) }
            state.leases.endLease(key)
            metaMiss("HD", request, key: key, buffer, &line)
        case .notFound:
            statistics.add(.deleteMisses)
            state.leases.endLease(key)
            metaMiss("NF", request, key: key, buffer, &line, quietable: false)
        case .exists:
            statistics.add(.deleteMisses)
            metaMiss("EX", request, key: key, buffer, &line, quietable: false)
        }
    }

    // MARK: - ma

    func metaArithmetic(_ request: MetaRequest, key: UnsafeRawBufferPointer, _ buffer: UnsafeRawBufferPointer, _ line: inout MetaLineWriter) {
        let flags = request.flags
        let clock = state.clock
        let increment = flags.mode != UInt8(ascii: "D") && flags.mode != UInt8(ascii: "-")
        let ttl = clock.expiry(fromProtocol: flags.ttl)
        let vivifyTTL = clock.expiry(fromProtocol: flags.vivifyTTL)
        // The exptime the T and N flags leave, in the order given (N only counts on a create).
        // memcached applies them while writing the reply, so an over-long opaque before them
        // stops them (the update itself has happened).
        var createdExptime: UInt32? = nil
        var hitExptime: UInt32? = nil
        flagScan: for token in request.tokens(in: buffer) {
            switch buffer[token.offset] {
            case UInt8(ascii: "T"):
                createdExptime = ttl
                hitExptime = ttl
            case UInt8(ascii: "N"):
                createdExptime = vivifyTTL
            case UInt8(ascii: "O") where token.count > TextParser.maximumOpaqueLength:
                break flagScan
            default:
                break
            }
        }
        let store = state.regions.region(for: key).store
        let (outcome, item) = store.metaArithmetic(
            key, increment: increment, delta: flags.delta, compareCAS: flags.compareCAS,
            vivify: flags.has("N") ? flags.initial : nil, hitExptime: hitExptime,
            createdExptime: createdExptime, parse: NumberParsing.parseUInt64)
        defer { item?.release() }
        switch outcome {
        case .value(let value, let cas, let exptime, let created):
            statistics.add(increment ? .incrHits : .decrHits)
            if created, let item { state.leases.valueStored(key) { HeldItem(item) } }
            metaArithmeticValue(request, key: key, value: value, cas: cas, exptime: exptime, created: created, buffer, &line)
        case .notFound:
            statistics.add(increment ? .incrMisses : .decrMisses)
            metaMiss("NF", request, key: key, buffer, &line, quietable: false)
        case .exists:
            metaMiss("EX", request, key: key, buffer, &line, quietable: false)
        case .nonNumeric:
            output.append("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n")
        case .outOfMemory:
            statistics.add(.storeNoMemory)
            output.append("SERVER_ERROR out of memory\r\n")
        }
    }

    private func metaArithmeticValue(
        _ request: MetaRequest, key: UnsafeRawBufferPointer, value: UInt64, cas: UInt64, exptime: UInt32,
        created: Bool, _ buffer: UnsafeRawBufferPointer, _ line: inout MetaLineWriter
    ) {
        let flags = request.flags
        let clock = state.clock
        if flags.has("v") {
            var width: UInt64 = 1
            var rest = value
            while rest >= 10 {
                rest /= 10
                width += 1
            }
            line.append("VA ")
            line.decimal(width)
        } else {
            line.append("HD")
        }
        var current = created ? 0 : exptime
        for token in request.tokens(in: buffer) {
            let letter = buffer[token.offset]
            switch letter {
            case UInt8(ascii: "c"):
                line.flag(letter)
                line.decimal(cas)
            case UInt8(ascii: "t"):
                line.flag(letter)
                Self.writeTTL(current, now: clock.now, &line)
            case UInt8(ascii: "T"):
                current = clock.expiry(fromProtocol: flags.ttl)
            case UInt8(ascii: "N"):
                if created { current = clock.expiry(fromProtocol: flags.vivifyTTL) }
            case UInt8(ascii: "O"):
                // Found only now, after the value changed: the reply is the error alone.
                guard token.count <= TextParser.maximumOpaqueLength else {
                    output.append(ErrorReply.metaOpaqueTooLong.text)
                    output.append("\r\n")
                    return
                }
                line.append(byte: 0x20)
                line.append(token.bytes(in: buffer))
            case UInt8(ascii: "k"):
                line.key(key, binary: flags.base64Key)
            default:
                break
            }
        }
        // Quiet mode hides a nominal update, but not the answer to a vivify.
        if flags.quiet && !created { return }
        if flags.has("v") {
            line.endLine()
            line.decimal(value)
        }
        line.endLine()
        output.append(line.written)
    }

    // MARK: - me

    func metaDebug(_ request: MetaRequest, key: UnsafeRawBufferPointer, _ line: inout MetaLineWriter) {
        let clock = state.clock
        guard let snapshot = state.regions.region(for: key).store.metaDebug(key) else {
            output.append("EN\r\n")
            return
        }
        let now = clock.now
        line.append("ME ")
        line.debugKey(key, binary: snapshot.binaryKey)
        line.append(" exp=")
        line.signedDecimal(snapshot.exptime == 0 ? -1 : Int64(Int32(bitPattern: now &- snapshot.exptime)))
        line.append(" la=")
        line.decimal(UInt64(now &- snapshot.lastAccess))
        line.append(" cas=")
        line.decimal(snapshot.cas)
        line.append(snapshot.fetched ? " fetch=yes cls=" : " fetch=no cls=")
        line.decimal(UInt64(MemcachedSlabClasses.classID(forTotal: snapshot.memcachedSize)))
        line.append(" size=")
        line.decimal(UInt64(snapshot.memcachedSize))
        line.endLine()
        output.append(line.written)
    }
}
