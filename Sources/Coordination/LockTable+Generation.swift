import Dogpile
import Synchronization

/// The generation-lease table: `lockgen`, `setgen`, `unlockgen`, and the store's side.
public typealias LeaseTable<Value> = LockTable<GenerationLease, Value>

extension LockTable where Entry == GenerationLease {
    /// `genstate <key>`: whether a generation lease is held and how many wait, after letting time
    /// pass; creates no entry, takes no budget, counts in no stat.
    @inlinable
    public func state(of key: LockKey) -> LockState {
        perform(key, absent: .free, full: .free) { entry, step in
            entry.advance(&step)
            return LockState(holders: entry.holdCount, exclusive: entry.holdCount > 0, waiters: entry.waiterCount)
        }
    }

    /// Decides a `lockgen`. `lookup` reads the store (fresh, stale copy or nothing) and runs under
    /// the key's lock. `arrival` is when the request's bytes were read (monotonic ms; now if
    /// nil): its wait is counted from there.
    @inlinable
    public func lockgen(
        _ key: LockKey, requester: Requester, ticket: WaiterTicket, arrival: Int64? = nil,
        leaseMilliseconds: Int, waitMilliseconds: Int, lookup: () -> (GenerationDecision.ValueState, Value?)
    ) -> LockgenOutcome<Value> {
        let statistics = context.statistics
        return perform(key, create: true, absent: .busy, full: .tooManyLocks) { entry, step in
            // Under the shard lock: a request that gets here after shutdown() passed this shard
            // would otherwise park with nobody left to answer it.
            guard !isShutDown else { return .shuttingDown }
            let (state, value) = lookup()
            let deadline = min(arrival ?? step.now, step.now) + Int64(waitMilliseconds)
            switch entry.lockgen(
                value: state, requester: requester, ticket: ticket, leaseMilliseconds: leaseMilliseconds,
                waitMilliseconds: waitMilliseconds, deadline: deadline, &step)
            {
            case .useValue:
                statistics.lockgenHits.increment()
                return .hit(value!)
            case .useStaleValue:
                statistics.lockgenStale.increment()
                return .stale(value!)
            case .generate(let token):
                statistics.lockgenGen.increment()
                if state == .expiring { statistics.lockgenEarly.increment() }
                // The value shown with the grant: the stale copy, or the fresh one renewed early.
                return .generate(token: token, stale: state == .missing ? nil : value)
            case .busy:
                statistics.lockgenTimeouts.increment()
                return .busy
            case .parked(let nextCheck):
                statistics.lockgenWaits.increment()
                return .parked(nextCheck: nextCheck)
            }
        }
    }

    /// `setgen`: runs `store` (which returns the stored value, or nil if the store failed) only
    /// while `token` names the key's live lease. Returns nil for `NOT_OWNER`; otherwise whether
    /// the store succeeded. A successful store ends the lease and hands the value to every
    /// waiter; a failed one changes nothing. `store` learns how long the lease was held.
    @inlinable
    public func setgen(_ key: LockKey, token: UInt64, store: (CompletedLease) -> Value?) -> Bool? {
        var stored: Value?
        return perform(key, absent: nil, full: nil, value: { stored }) { entry, step in
            guard entry.owns(token, &step), let completion = entry.completion(at: step.now) else { return nil }
            guard let value = store(completion) else { return false }
            stored = value
            entry.valueStored(&step)
            return true
        }
    }

    /// A meta command's recache win on `key` (see ``GenerationLease/claimMetaWin``). A full table
    /// does not cost the client its win: memcached would have given it, so it is given, unlocked.
    @inlinable
    public func claimMetaWin(_ key: LockKey, requester: Requester, leaseMilliseconds: Int) -> Bool {
        perform(key, create: true, absent: true, full: true) { entry, step in
            entry.claimMetaWin(requester: requester, leaseMilliseconds: leaseMilliseconds, &step)
        }
    }

    /// `unlockgen`: ends the lease if `token` names it; the oldest waiter in time is elected.
    @inlinable
    public func unlockgen(_ key: LockKey, token: UInt64) -> Bool {
        perform(key, absent: false, full: false) { entry, step in entry.release(token, &step) }
    }

    /// A value was stored under `key` by any verb: the lease ends and every waiter gets the
    /// value `value` makes (called only when someone is woken, so a store nobody waits for
    /// makes nothing).
    @inlinable
    public func valueStored(_ key: UnsafeRawBufferPointer, value: () -> Value) {
        guard activity.load(ordering: .sequentiallyConsistent) > 0 else { return }
        perform(LockKey(key), absent: (), full: (), value: value) { entry, step in entry.valueStored(&step) }
    }

    /// The lease on `key` ends without a value (`delete`): the oldest waiter is elected.
    @inlinable
    public func endLease(_ key: UnsafeRawBufferPointer) {
        guard activity.load(ordering: .sequentiallyConsistent) > 0 else { return }
        perform(LockKey(key), absent: (), full: ()) { entry, step in entry.endLease(&step) }
    }

    /// Ends the leases of every key `matches` selects (invalidation, `flush_all`): O(table size).
    @inlinable
    public func endLeases(where matches: (LockKey) -> Bool) {
        performAll(where: matches) { entry, step in entry.endLease(&step) }
    }
}
