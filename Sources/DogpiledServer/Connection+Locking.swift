import CacheStore
import Coordination
import Dogpile
import EventLoop
import MemcacheProtocol

/// The lock verbs of PROTOCOL.md: decided by the lock tables, parked here when they must wait.
extension Connection {
    func lockgen(_ keySpan: ByteSpan, leaseMilliseconds: Int, waitMilliseconds: Int?, _ buffer: UnsafeRawBufferPointer) {
        let keyBytes = keySpan.bytes(in: buffer)
        let region = state.regions.region(for: keyBytes)
        let key = LockKey(keyBytes)
        let ticket = nextTicket()
        let outcome = state.leases.lockgen(
            key, requester: requester, ticket: ticket, leaseMilliseconds: leaseMilliseconds,
            waitMilliseconds: waitMilliseconds ?? region.lockWaitMilliseconds
        ) {
            let (freshness, item) = region.store.generationLookup(keyBytes)
            return (GenerationDecision.ValueState(freshness), item)
        }
        switch outcome {
        case .hit(let item):
            appendValue(unsafeDowncast(item, to: Item.self), key: keyBytes, withCAS: true)
            output.append("HIT\r\n")
        case .generate(let token, let stale):
            region.store.markWinTokenSent(keyBytes)  // meta readers see `Z` while this runs
            if let stale { appendValue(unsafeDowncast(stale, to: Item.self), key: keyBytes, withCAS: true) }
            appendTokenLine("GEN ", token)
        case .stale(let item):
            appendValue(unsafeDowncast(item, to: Item.self), key: keyBytes, withCAS: true)
            output.append("STALE\r\n")
        case .busy:
            output.append("BUSY\r\n")
        case .tooManyLocks:
            output.append("SERVER_ERROR too many locks\r\n")
        case .parked(let nextCheck):
            park(ParkedRequest(kind: .generation, key: key, ticket: ticket), until: nextCheck)
        }
    }

    func setgen(_ request: StorageRequest, _ buffer: UnsafeRawBufferPointer) {
        let keyBytes = request.key.bytes(in: buffer)
        let region = state.regions.region(for: keyBytes)
        statistics.add(.cmdSet)
        let result = state.leases.setgen(LockKey(keyBytes), token: request.unique) { () -> AnyObject? in
            let (outcome, item) = region.store.storeReturningItem(
                .set, key: keyBytes, flags: request.flags,
                exptime: state.clock.expiry(fromProtocol: region.effectiveExptime(request.exptime)),
                value: request.data.bytes(in: buffer), keepingOnFailure: true)
            return outcome == .stored ? item : nil
        }
        switch result {
        case nil: reply("NOT_OWNER\r\n", unless: request.noreply)
        case false?:
            statistics.add(.storeNoMemory)
            reply("SERVER_ERROR out of memory storing object\r\n", unless: request.noreply)
        case true?: reply("STORED\r\n", unless: request.noreply)
        }
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
            leaseMilliseconds: leaseMilliseconds,
            waitMilliseconds: waitMilliseconds ?? state.mutexLockWait.load(ordering: .relaxed))
        switch outcome {
        case .locked(let token): appendTokenLine("LOCKED ", token)
        case .busy: output.append("BUSY\r\n")
        case .tooManyLocks: output.append("SERVER_ERROR too many locks\r\n")
        case .parked(let nextCheck): park(ParkedRequest(kind: .mutex, key: key, ticket: ticket), until: nextCheck)
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
        setReading(false)
        armParkTimer(at: nextCheck)
    }

    /// A table answered the parked request (through the worker's mailbox).
    func wake(sequence: UInt64, outcome: WakeOutcome) {
        guard let request = parked, request.ticket.sequence == sequence else {
            // Not waiting for this any more: give back anything it grants.
            if case .granted(let token) = outcome { giveBack(token, sequence: sequence) }
            return
        }
        switch (request.kind, outcome) {
        case (.generation, .value(let item)):
            state.coordinationStatistics.lockgenHits.increment()
            request.key.bytes.withUnsafeBytes { key in
                appendValue(unsafeDowncast(item, to: Item.self), key: key, withCAS: true)
            }
            output.append("HIT\r\n")
        case (.generation, .granted(let token)):
            appendTokenLine("GEN ", token)
        case (.mutex, .granted(let token)):
            appendTokenLine("LOCKED ", token)
        case (_, .shuttingDown), (.mutex, .value):
            output.append("SERVER_ERROR shutting down\r\n")
        }
        resume()
    }

    /// The server is stopping: a parked request is answered now rather than dropped.
    func answerParkedRequestForShutdown() {
        guard parked != nil else { return }
        parked = nil
        output.append("SERVER_ERROR shutting down\r\n")
    }

    func parkTimerFired() {
        guard let request = parked else { return }
        let now = MonotonicClock.milliseconds()
        let outcome = request.kind == .generation
            ? state.leases.checkTimers(request.key, ticket: request.ticket, now: now)
            : state.mutexes.checkTimers(request.key, ticket: request.ticket, now: now)
        switch outcome {
        case .waiting(let nextCheck):
            armParkTimer(at: nextCheck)
        case .timedOut:
            output.append("BUSY\r\n")
            resume()
        case .answered:
            break  // the answer is already in the mailbox
        }
    }

    /// Sends the answer, then continues with the requests that arrived while parked. The answer
    /// goes out before the read event is re-armed: with hundreds of waiters woken at once, every
    /// system call ahead of the write adds to the last waiter's latency.
    private func resume() {
        parked = nil
        flush()
        guard !closed else { return }
        setReading(true)
        executeBufferedRequests()
        flush()
    }

    private func giveBack(_ token: UInt64, sequence: UInt64) {
        // Only possible for a wait this connection no longer tracks; closing releases it anyway,
        // so this is a safety net for a logic error, not a normal path.
        state.logger.warning("unexpected grant for an unknown wait", metadata: ["token": "\(token)", "sequence": "\(sequence)"])
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
        case .stale: self = .stale
        case .missing: self = .missing
        }
    }
}
