import CacheStore
import Coordination
import Dogpile
import EventLoop
import MemcacheProtocol

/// The lock verbs of PROTOCOL.md: decided by the lock tables, parked here when they must wait.
extension Connection {
    func lockgen(_ keySpan: ByteSpan, leaseMilliseconds: Int, waitMilliseconds: Int?, early: Bool, _ buffer: UnsafeRawBufferPointer) {
        let keyBytes = keySpan.bytes(in: buffer)
        let region = state.regions.region(for: keyBytes)
        // Early recompute is opt-in per request, so a client that reads `VALUE ... GEN` as "the
        // value is stale" never gets one for a fresh value.
        let draw = early ? EarlyRecomputeDraw(beta: region.earlyRecomputeBeta, uniform: random.nextUniform()) : nil
        // A fresh value is a HIT whatever the key's lease (GenerationDecision's first row), so it
        // is answered from the store alone: no owned key, no lock table, no allocation. Anything
        // else is decided under the table's shard lock, which looks again.
        let freshness = region.store.readIfFresh(keyBytes, early: draw) { fresh in
            appendValue(fresh, key: keyBytes, withCAS: true)
        }
        if freshness == .fresh {
            state.coordinationStatistics.lockgenHits.increment()
            output.append("HIT\r\n")
            return
        }
        let key = LockKey(keyBytes)
        let ticket = nextTicket()
        let outcome = state.leases.lockgen(
            key, requester: requester, ticket: ticket, arrival: lastReadMilliseconds, leaseMilliseconds: leaseMilliseconds,
            waitMilliseconds: waitMilliseconds ?? region.lockWaitMilliseconds
        ) {
            let (freshness, item) = region.store.generationLookup(keyBytes, early: draw)
            defer { item?.release() }
            return (GenerationDecision.ValueState(freshness), item.map(HeldItem.init))
        }
        if let nextCheck = appendAnswer(outcome, key: keyBytes, region: region, busy: "BUSY\r\n") {
            park(ParkedRequest(kind: .generation, key: key, ticket: ticket), until: nextCheck)
        }
    }

    /// Queues the reply to one `lockgen` decision (`busy` is how a refusal reads: `BUSY`, or
    /// `MISS` in `mlockgen`). Returns when to check again if the request must park instead.
    private func appendAnswer(
        _ outcome: LockgenOutcome<HeldItem>, key keyBytes: UnsafeRawBufferPointer, region: Region, busy: StaticString
    ) -> Int64? {
        switch outcome {
        case .hit(let held):
            appendValue(held.item, key: keyBytes, withCAS: true)
            output.append("HIT\r\n")
        case .generate(let token, let stale):
            region.store.markWinTokenSent(keyBytes)  // meta readers see `Z` while this runs
            if let stale { appendValue(stale.item, key: keyBytes, withCAS: true) }
            appendTokenLine("GEN ", token)
        case .stale(let held):
            appendValue(held.item, key: keyBytes, withCAS: true)
            output.append("STALE\r\n")
        case .busy:
            output.append(busy)
        case .tooManyLocks:
            output.append("SERVER_ERROR too many locks\r\n")
        case .shuttingDown:
            output.append("SERVER_ERROR shutting down\r\n")
        case .parked(let nextCheck):
            return nextCheck
        }
        return nil
    }

    func setgen(_ request: StorageRequest, _ buffer: UnsafeRawBufferPointer) {
        let keyBytes = request.key.bytes(in: buffer)
        let region = state.regions.region(for: keyBytes)
        statistics.add(.cmdSet)
        var completed: CompletedLease?
        var beatExpiry = false
        let result = state.leases.setgen(LockKey(keyBytes), token: request.unique) { lease -> HeldItem? in
            // An early regeneration that lands while the old value is still fresh beat expiry.
            if lease.early {
                let (freshness, old) = region.store.generationLookup(keyBytes)
                old?.release()
                beatExpiry = freshness == .fresh
            }
            let (outcome, item) = region.store.storeReturningItem(
                .set, key: keyBytes, flags: request.flags,
                exptime: state.clock.expiry(fromProtocol: region.effectiveExptime(request.exptime)),
                value: request.data.bytes(in: buffer), keepingOnFailure: true,
                regenerationMilliseconds: UInt16(clamping: lease.heldMilliseconds))
            defer { item?.release() }
            guard outcome == .stored else { return nil }
            completed = lease
            return item.map(HeldItem.init)
        }
        if let completed {
            region.recordRegeneration(milliseconds: completed.heldMilliseconds)
            if beatExpiry { state.coordinationStatistics.lockgenEarlyBeatExpiry.increment() }
        }
        switch result {
        case nil: reply("NOT_OWNER\r\n", unless: request.noreply)
        case false?:
            statistics.add(.storeNoMemory)
            reply("SERVER_ERROR out of memory storing object\r\n", unless: request.noreply)
        case true?: reply("STORED\r\n", unless: request.noreply)
        }
    }

    /// `mlockgen <lease_ms> <key>...`: one answer block per key, in order, then `END`. Each key
    /// is decided as `lockgen <key> <lease_ms> 0 early` would, except that a key someone else
    /// regenerates with no copy to show answers `MISS` (not `BUSY`): the client waits for those
    /// with a plain `lockgen`, so no key's wait holds up the others' answers.
    ///
    /// Like a multi-get, it stops once the connection's queued output passes the high-water and
    /// runs on from that key when the output drains (``multiGetProgress``): the keys answered
    /// before the pause are not decided twice.
    func multiLockgen(leaseMilliseconds: Int, keys: ByteSpan, _ buffer: UnsafeRawBufferPointer) {
        let resumeAt = multiGetProgress
        var index = 0
        for keySpan in KeyList(buffer: buffer, range: keys) {
            defer { index += 1 }
            if index < resumeAt { continue }
            if output.count > Self.outputHighWater {
                multiGetProgress = index
                return
            }
            let keyBytes = keySpan.bytes(in: buffer)
            let region = state.regions.region(for: keyBytes)
            let draw = EarlyRecomputeDraw(beta: region.earlyRecomputeBeta, uniform: random.nextUniform())
            let outcome = state.leases.lockgen(
                LockKey(keyBytes), requester: requester, ticket: nextTicket(), leaseMilliseconds: leaseMilliseconds,
                waitMilliseconds: 0
            ) {
                let (freshness, item) = region.store.generationLookup(keyBytes, early: draw)
                defer { item?.release() }
                return (GenerationDecision.ValueState(freshness), item.map(HeldItem.init))
            }
            // wait 0 never parks; were it to, the key would read as MISS all the same.
            if appendAnswer(outcome, key: keyBytes, region: region, busy: "MISS\r\n") != nil {
                output.append("MISS\r\n")
            }
        }
        multiGetProgress = 0
        output.append("END\r\n")
    }

    func unlockgen(_ keySpan: ByteSpan, token: UInt64, _ buffer: UnsafeRawBufferPointer) {
        let released = state.leases.unlockgen(LockKey(keySpan.bytes(in: buffer)), token: token)
        output.append(released ? "RELEASED\r\n" : "NOT_OWNER\r\n")
    }

    func lock(_ name: ByteSpan, shared: Bool, leaseMilliseconds: Int, waitMilliseconds: Int?, _ buffer: UnsafeRawBufferPointer) {
        let key = LockKey(name.bytes(in: buffer))
        let ticket = nextTicket()
        let outcome = state.mutexes.lock(
            key, mode: shared ? .shared : .exclusive, requester: requester, ticket: ticket,
            arrival: lastReadMilliseconds, leaseMilliseconds: leaseMilliseconds,
            waitMilliseconds: waitMilliseconds ?? state.mutexLockWait.load(ordering: .relaxed))
        switch outcome {
        case .locked(let token): appendTokenLine("LOCKED ", token)
        case .busy: output.append("BUSY\r\n")
        case .tooManyLocks: output.append("SERVER_ERROR too many locks\r\n")
        case .shuttingDown: output.append("SERVER_ERROR shutting down\r\n")
        case .parked(let nextCheck): park(ParkedRequest(kind: .mutex, key: key, ticket: ticket), until: nextCheck)
        }
    }

    /// `lockstate <name>` -> `FREE` | `EXCLUSIVE <waiters>` | `SHARED <holders> <waiters>`;
    /// `genstate <key>` -> `FREE` | `LEASED <waiters>`. Reads only: no entry, no stat.
    func lockState(_ name: ByteSpan, generation: Bool, _ buffer: UnsafeRawBufferPointer) {
        let key = LockKey(name.bytes(in: buffer))
        let found = generation ? state.leases.state(of: key) : state.mutexes.state(of: key)
        if found.holders == 0 {
            // Waiters without a holder do not outlast the step that lets time pass: a free name.
            output.append("FREE\r\n")
        } else if generation {
            output.append(string: "LEASED \(found.waiters)\r\n")
        } else if found.exclusive {
            output.append(string: "EXCLUSIVE \(found.waiters)\r\n")
        } else {
            output.append(string: "SHARED \(found.holders) \(found.waiters)\r\n")
        }
    }

    func invalidate(_ regionName: ByteSpan, hard: Bool, _ buffer: UnsafeRawBufferPointer) {
        guard let region = state.regions.region(named: regionName.bytes(in: buffer)) else {
            output.append("NOT_FOUND\r\n")
            return
        }
        if hard { state.invalidateHard(region) } else { region.store.invalidateSoftly() }
        output.append("OK\r\n")
    }

    // MARK: - Parking

    private func nextTicket() -> WaiterTicket {
        usedLocks = true
        waitSequence &+= 1
        return WaiterTicket(requester: requester, sequence: waitSequence)
    }

    private func park(_ request: ParkedRequest, until nextCheck: Int64) {
        parked = request
        // The socket stays watched: a hang-up ends the wait at once (docs/protocol.md).
        machine.park()
        armParkTimer(at: nextCheck)
    }

    /// A table answered the parked request (through the worker's mailbox).
    func wake(_ wake: Wake<HeldItem>) {
        guard let request = parked, request.ticket == wake.ticket else {
            // Not waiting for this any more: a grant is given back, or it would block everyone
            // until its lease ends.
            state.giveBack(wake)
            return
        }
        var shuttingDown = false
        switch (request.kind, wake.outcome) {
        case (.generation, .value(let held)):
            state.coordinationStatistics.lockgenHits.increment()
            request.key.bytes.withUnsafeBytes { key in
                appendValue(held.item, key: key, withCAS: true)
            }
            output.append("HIT\r\n")
        case (.generation, .granted(let token)):
            appendTokenLine("GEN ", token)
        case (.mutex, .granted(let token)):
            appendTokenLine("LOCKED ", token)
        case (_, .timedOut):
            output.append("BUSY\r\n")
        case (_, .shuttingDown), (.mutex, .value):
            output.append("SERVER_ERROR shutting down\r\n")
            // Nothing pipelined behind it runs: the server is going away.
            shuttingDown = true
        }
        parked = nil
        run(machine.answered(shuttingDown: shuttingDown))
    }

    func parkTimerFired() {
        guard let request = parked else { return }
        let outcome = request.kind == .generation
            ? state.leases.checkTimers(request.key, ticket: request.ticket)
            : state.mutexes.checkTimers(request.key, ticket: request.ticket)
        switch outcome {
        case .waiting(let nextCheck):
            armParkTimer(at: nextCheck)
            if machine.state == .closed { run(.close) }
        case .timedOut:
            output.append("BUSY\r\n")
            parked = nil
            run(machine.answered(shuttingDown: false))
        case .answered:
            break  // the answer is already in the mailbox
        }
    }

    /// Gives up the parked request's wait now (the connection will close): the tables drop it, so
    /// it holds no place in any queue meanwhile.
    func dropWait() {
        guard parked != nil else { return }
        parked = nil
        state.leases.connectionClosed(requester)
        state.mutexes.connectionClosed(requester)
    }

    private func appendTokenLine(_ prefix: StaticString, _ token: UInt64) {
        output.append(prefix)
        output.write(maximum: 22) { target in
            let end = ReplyEncoding.writeDecimal(token, into: target, at: 0)
            target[end] = 0x0D
            target[end + 1] = 0x0A
            return end + 2
        }
    }
}

extension GenerationDecision.ValueState {
    init(_ freshness: ValueFreshness) {
        switch freshness {
        case .fresh: self = .fresh
        case .expiring: self = .expiring
        case .stale: self = .stale
        case .missing: self = .missing
        }
    }
}
