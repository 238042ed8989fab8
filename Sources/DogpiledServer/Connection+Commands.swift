import CacheStore
import Coordination
import EventLoop
import Logging
import MemcacheProtocol

/// Executing decoded requests against the store and queueing their replies.
extension Connection {
    /// Values up to this size are copied into the output; larger ones are sent from the item.
    static let copyThreshold = 16 * 1024

    func execute(_ command: Command, _ buffer: UnsafeRawBufferPointer) {
        let stats = statistics
        switch command {
        case .retrieval(let request):
            retrieve(request, buffer)
        case .storage(let request):
            if request.verb == .setgen { setgen(request, buffer) } else { store(request, buffer) }
        case .delete(let key, let noreply):
            let keyBytes = key.bytes(in: buffer)
            state.prefixStatistics.record(keyBytes, .delete)
            let deleted = state.regions.region(for: keyBytes).store.delete(keyBytes)
            state.leases.endLease(keyBytes)
            if deleted {
                stats.add(.deleteHits)
                reply("DELETED\r\n", unless: noreply)
            } else {
                stats.add(.deleteMisses)
                reply("NOT_FOUND\r\n", unless: noreply)
            }
        case .arithmetic(let request):
            arithmetic(request, buffer)
        case .touch(let key, let exptime, let noreply):
            stats.add(.cmdTouch)
            let keyBytes = key.bytes(in: buffer)
            if state.regions.region(for: keyBytes).store.touch(keyBytes, exptime: state.clock.expiry(fromProtocol: exptime)) {
                stats.add(.touchHits)
                reply("TOUCHED\r\n", unless: noreply)
            } else {
                stats.add(.touchMisses)
                reply("NOT_FOUND\r\n", unless: noreply)
            }
        case .flushAll(let delay, let noreply):
            stats.add(.cmdFlush)
            state.regions.defaultRegion.store.consumeCASUnique()
            if delay > 0 {
                state.pendingFlush.store(state.clock.expiry(fromProtocol: delay), ordering: .relaxed)
            } else {
                // A later immediate flush supersedes a pending delayed one, as in memcached.
                state.pendingFlush.store(0, ordering: .relaxed)
                state.invalidateHard(nil)
            }
            reply("OK\r\n", unless: noreply)
        case .flushRefused(let noreply):
            // memcached counts a refused flush_all too.
            stats.add(.cmdFlush)
            reply("CLIENT_ERROR flush_all not allowed\r\n", unless: noreply)
        case .admin(let request):
            executeAdmin(request, buffer)
        case .verbosity(let level, let noreply):
            state.verbosity.set(Int(min(level, 2)))
            reply("OK\r\n", unless: noreply)
        case .refreshCertificates(let noreply):
            refreshCertificates(noreply: noreply)
        case .version:
            output.append("VERSION ")
            output.append(string: ServerState.version)
            output.append("\r\n")
        case .lockgen(let key, let lease, let wait, let early):
            lockgen(key, leaseMilliseconds: lease, waitMilliseconds: wait, early: early, buffer)
        case .multiLockgen(let lease, let keys):
            multiLockgen(leaseMilliseconds: lease, keys: keys, buffer)
        case .unlockgen(let key, let token):
            unlockgen(key, token: token, buffer)
        case .lock(let name, let shared, let lease, let wait):
            lock(name, shared: shared, leaseMilliseconds: lease, waitMilliseconds: wait, buffer)
        case .unlock(let name, let token):
            output.append(state.mutexes.unlock(LockKey(name.bytes(in: buffer)), token: token) ? "UNLOCKED\r\n" : "NOT_OWNER\r\n")
        case .renew(let name, let token, let lease):
            let renewed = state.mutexes.renew(LockKey(name.bytes(in: buffer)), token: token, leaseMilliseconds: lease)
            output.append(renewed ? "RENEWED\r\n" : "NOT_OWNER\r\n")
        case .lockState(let name, let generation):
            lockState(name, generation: generation, buffer)
        case .invalidate(let region, let hard):
            invalidate(region, hard: hard, buffer)
        case .metaNoop:
            output.append("MN\r\n")
        case .meta(let request):
            if request.verb == .debug { stats.add(.cmdMeta) }
            executeMeta(request, buffer)
        case .quit:
            beginClosing()
        case .stats(let arguments):
            let words = AdminArguments(statsArguments: arguments.bytes(in: buffer))
            if words.word(0, is: "cachedump") { return cachedump(words) }
            if words.word(0, is: "detail") { return statsDetail(words) }
            if words.word(0, is: "conns") {
                let lines = state.directory.report(now: state.clock.now, asking: descriptor)
                var text = ""
                for (name, value) in lines { text += "STAT \(name) \(value)\r\n" }
                return output.append(string: text + "END\r\n")
            }
            let report = StatsReport(state: state).render(arguments: arguments.bytes(in: buffer))
            output.append(string: report)
            if report == "RESET\r\n" { state.resetStatistics() }
        case .tooLarge(let key, let verb, let noreply):
            stats.add(.cmdSet)
            stats.add(.storeTooLarge)
            state.prefixStatistics.record(key.bytes(in: buffer), .set)
            // memcached drops the old value: a failed set must not leave stale data behind.
            // (Not for setgen: without a checked token it must not change anything.)
            if verb == .set {
                let keyBytes = key.bytes(in: buffer)
                state.regions.region(for: keyBytes).store.delete(keyBytes)
            }
            reply("SERVER_ERROR object too large for cache\r\n", unless: noreply)
        case .badDataChunk(let noreply):
            reply("CLIENT_ERROR bad data chunk\r\n", unless: noreply)
        case .failure(let error, let noreply):
            guard !noreply else { return }
            output.append(error.text)
            output.append("\r\n")
        case .close(let reason):
            if reason == .binaryProtocol {
                // Counted every time; logged at most once per 10 s (a client can open thousands).
                statistics.add(.binaryProtocolCloses)
                let logger = state.logger
                state.binaryProtocolLog.record { suppressed in
                    logger.info("closing connection: binary protocol is not supported",
                                metadata: suppressed > 0 ? ["suppressed_since_last": "\(suppressed)"] : [:])
                }
            } else if state.verbosity.value > 0 {
                state.logger.info("closing connection: \(reason)")
            }
            beginClosing()
        }
    }

    @inline(__always)
    func reply(_ text: StaticString, unless noreply: Bool) {
        if !noreply { output.append(text) }
    }

    /// Answers `get`/`gets`/`gat`/`gats`. A multi-get whose reply passes the output high-water
    /// stops there and records how many keys it answered (``multiGetProgress``); the request is
    /// then run again once the output drains, skipping those keys. So one request line naming a
    /// large value thousands of times queues at most the high-water plus one value, not the
    /// whole reply (memcached, too, bounds a get's reply objects rather than building it whole).
    private func retrieve(_ request: RetrievalRequest, _ buffer: UnsafeRawBufferPointer) {
        let stats = statistics
        let touches = request.verb.touches
        let exptime: UInt32? = touches ? state.clock.expiry(fromProtocol: request.exptime) : nil
        let maximumKey = parser.limits.maximumKeyLength
        let resumeAt = multiGetProgress
        if resumeAt == 0 {
            // memcached answers an over-long key with the error alone, withdrawing the keys
            // before it; checking them all first means no part of the reply is ever sent early.
            for key in request.keys(in: buffer) where key.count > maximumKey {
                // The keys before it were still read (and touched), as memcached reads them.
                for earlier in request.keys(in: buffer) {
                    if earlier.offset == key.offset { break }
                    let bytes = earlier.bytes(in: buffer)
                    state.regions.region(for: bytes).store.get(bytes, newExptime: exptime)?.release()
                }
                output.append("CLIENT_ERROR bad command line format\r\n")
                return
            }
        }
        var index = 0
        for key in request.keys(in: buffer) {
            defer { index += 1 }
            if index < resumeAt { continue }
            if output.count > Self.outputHighWater {
                multiGetProgress = index
                return
            }
            let keyBytes = key.bytes(in: buffer)
            stats.add(touches ? .cmdTouch : .cmdGet)
            // The reply is written under the shard lock: a value copied there needs no reference.
            let hit = state.regions.region(for: keyBytes).store.read(keyBytes, newExptime: exptime) { item in
                appendValue(item, key: keyBytes, withCAS: request.verb.returnsCAS)
            }
            state.prefixStatistics.record(keyBytes, .get(hit: hit))
            stats.add(hit ? (touches ? .touchHits : .getHits) : (touches ? .touchMisses : .getMisses))
        }
        multiGetProgress = 0
        output.append("END\r\n")
    }

    /// Queues `VALUE ...\r\n<data>\r\n` for `item`, which the caller holds a reference to (a
    /// large value sent by reference takes one of its own until libevent has written it).
    func appendValue(_ item: Item, key: UnsafeRawBufferPointer, withCAS: Bool) {
        // Only fields fixed before the item was linked are read: no shard lock is held here.
        let length = item.valueLength
        let flags = item.clientFlags
        // Under -C memcached's items have no CAS field and every VALUE line shows 0.
        let cas: UInt64? = withCAS ? (state.reportsCAS ? item.casUnique : 0) : nil
        if length <= Self.copyThreshold {
            output.write(maximum: ReplyEncoding.maximumValueLineLength + length + 2) { target in
                let written = ReplyEncoding.writeValueLine(key: key, flags: flags, length: length, cas: cas, into: target)
                return item.withValue { value in
                    let end = written + value.count
                    if value.count > 0 { UnsafeMutableRawBufferPointer(rebasing: target[written..<end]).copyMemory(from: value) }
                    target[end] = 0x0D
                    target[end + 1] = 0x0A
                    return end + 2
                }
            }
        } else {
            output.write(maximum: ReplyEncoding.maximumValueLineLength) { target in
                ReplyEncoding.writeValueLine(key: key, flags: flags, length: length, cas: cas, into: target)
            }
            appendByReference(item)
            output.append("\r\n")
        }
    }

    /// Queues `item`'s value without copying it, holding a reference to its segment until
    /// libevent has written the bytes.
    func appendByReference(_ item: Item) {
        item.retain()
        let taken = item.withValue {
            output.appendReference($0, context: item.segmentAddress, cleanup: releaseReferencedValue)
        }
        if !taken { item.release() }
    }

    private func store(_ request: StorageRequest, _ buffer: UnsafeRawBufferPointer) {
        let stats = statistics
        stats.add(.cmdSet)
        let keyBytes = request.key.bytes(in: buffer)
        state.prefixStatistics.record(keyBytes, .set)
        let region = state.regions.region(for: keyBytes)
        let (outcome, item) = region.store.storeReturningItem(
            StoreVerb(request.verb), key: keyBytes, flags: request.flags,
            exptime: state.clock.expiry(fromProtocol: region.effectiveExptime(request.exptime)),
            casUnique: request.unique, value: request.data.bytes(in: buffer))
        let noreply = request.noreply
        switch outcome {
        case .stored:
            // Any store ends a generation lease and answers everyone waiting for the key.
            if let item {
                state.leases.valueStored(keyBytes) { HeldItem(item) }
                item.release()
            }
            if request.verb == .cas { stats.add(.casHits) }
            reply("STORED\r\n", unless: noreply)
        case .notStored:
            reply("NOT_STORED\r\n", unless: noreply)
        case .exists:
            stats.add(.casBadval)
            reply("EXISTS\r\n", unless: noreply)
        case .notFound:
            stats.add(.casMisses)
            reply("NOT_FOUND\r\n", unless: noreply)
        case .outOfMemory:
            stats.add(.storeNoMemory)
            reply("SERVER_ERROR out of memory storing object\r\n", unless: noreply)
        }
    }

    private func arithmetic(_ request: ArithmeticRequest, _ buffer: UnsafeRawBufferPointer) {
        let stats = statistics
        let keyBytes = request.key.bytes(in: buffer)
        let outcome = state.regions.region(for: keyBytes).store.arithmetic(
            keyBytes, increment: request.increment, delta: request.delta,
            parse: NumberParsing.parseUInt64)
        switch outcome {
        case .value(let value):
            stats.add(request.increment ? .incrHits : .decrHits)
            guard !request.noreply else { return }
            output.write(maximum: 22) { target in
                let end = ReplyEncoding.writeDecimal(value, into: target, at: 0)
                target[end] = 0x0D
                target[end + 1] = 0x0A
                return end + 2
            }
        case .notFound:
            stats.add(request.increment ? .incrMisses : .decrMisses)
            reply("NOT_FOUND\r\n", unless: request.noreply)
        case .nonNumeric:
            reply("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n", unless: request.noreply)
        case .outOfMemory:
            statistics.add(.storeNoMemory)
            reply("SERVER_ERROR out of memory\r\n", unless: request.noreply)
        }
    }
}

extension StoreVerb {
    /// The store operation for a protocol verb.
    init(_ verb: StorageVerb) {
        switch verb {
        case .set: self = .set
        case .add: self = .add
        case .replace: self = .replace
        case .append: self = .append
        case .prepend: self = .prepend
        case .cas: self = .cas
        case .setgen: self = .set
        }
    }
}
