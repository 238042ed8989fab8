import Dogpile
import Synchronization

/// Generation leases per key: the server side of `lockgen`, `setgen` and `unlockgen`.
///
/// An entry exists only while a lease is held or a request waits (the seed's NameRegistry
/// semantics), so a million keys that nobody regenerates cost nothing here. Each entry counts
/// against the shared ``LockBudget``.
///
/// Every decision is taken with the key's shard lock held, and the caller's store lookup runs
/// inside that lock (``lockgen(_:requester:ticket:leaseMilliseconds:waitMilliseconds:lookup:)``),
/// so a store racing with a request that is about to park cannot slip between the two and leave
/// the request waiting for a wake-up that already happened. Stores take the store's lock first and
/// this table's lock only after releasing it; this table may take the store's lock inside its own.
/// One order, no deadlock.
public final class LeaseTable: @unchecked Sendable {
    /// Values are the store's items, opaque here.
    public typealias Value = AnyObject

    struct Lease {
        var token: UInt64
        var holder: Requester
        var expiresAt: Int64
        /// Taken for a meta command's recache win (`W`) rather than by `lockgen`.
        var meta = false
    }

    struct Waiter {
        var ticket: WaiterTicket
        var leaseMilliseconds: Int
        var deadline: Int64
    }

    final class Entry {
        var lease: Lease?
        var waiters: [Waiter] = []
    }

    /// The answer to `lockgen`.
    public enum LockgenOutcome {
        /// A fresh value (`HIT`).
        case hit(Value)
        /// The caller holds the new lease; `stale` is the stale copy to show, if any (`GEN`).
        case generate(token: UInt64, stale: Value?)
        /// Someone else regenerates; here is the stale copy (`STALE`).
        case stale(Value)
        /// Nothing to return and no waiting allowed (`BUSY`).
        case busy
        /// The request waits; check again (``checkTimers(_:ticket:now:)``) at `nextCheck` ms.
        case parked(nextCheck: Int64)
        /// The table is full (`SERVER_ERROR too many locks`).
        case tooManyLocks
    }

    private let shards: TableShards<Entry>
    private let shared: LockTableContext
    /// Entries plus `lockgen` calls in flight: zero lets a store skip this table entirely.
    private let activity = Atomic<Int>(0)

    /// Creates an empty table sharing `context` with the other lock table.
    public init(context: LockTableContext, shardCount: Int = 16) {
        self.shared = context
        self.shards = TableShards(count: shardCount)
    }


    // MARK: - lockgen

    /// Decides a `lockgen`. `lookup` reads the store (fresh, stale copy or nothing) and runs under
    /// the key's lock.
    public func lockgen(
        _ key: LockKey, requester: Requester, ticket: WaiterTicket, leaseMilliseconds: Int,
        waitMilliseconds: Int, lookup: () -> (GenerationDecision.ValueState, Value?)
    ) -> LockgenOutcome {
        activity.add(1, ordering: .sequentiallyConsistent)
        defer { activity.subtract(1, ordering: .sequentiallyConsistent) }
        return shards[key].withLock { shard in
            let now = MonotonicClock.milliseconds()
            let (state, value) = lookup()
            if let entry = shard.entries[key] { expireIfDue(entry, key: key, in: shard, now: now) }
            let entry = shard.entries[key]
            let lease = entry?.lease
            switch GenerationDecision.decide(value: state, leaseHeld: lease != nil) {
            case .useValue:
                shared.statistics.lockgenHits.increment()
                return .hit(value!)
            case .useStaleValue:
                shared.statistics.lockgenStale.increment()
                return .stale(value!)
            case .regenerate:
                let target: Entry
                if let entry {
                    target = entry
                } else {
                    guard let created = makeEntry(key, in: shard) else { return .tooManyLocks }
                    target = created
                }
                let token = shared.tokens.next()
                target.lease = Lease(token: token, holder: requester, expiresAt: now + Int64(leaseMilliseconds))
                shared.statistics.lockgenGen.increment()
                return .generate(token: token, stale: state == .stale ? value : nil)
            case .waitForValue:
                guard let entry, let lease, lease.holder != requester, waitMilliseconds > 0 else {
                    shared.statistics.lockgenTimeouts.increment()
                    return .busy
                }
                let deadline = now + Int64(waitMilliseconds)
                entry.waiters.append(Waiter(ticket: ticket, leaseMilliseconds: leaseMilliseconds, deadline: deadline))
                shared.statistics.lockgenWaits.increment()
                return .parked(nextCheck: min(deadline, lease.expiresAt))
            }
        }
    }

    /// A meta command (`mg`) is handing out a recache win (`W`) on `key`: the winner takes the
    /// key's generation lease, so `lockgen` callers wait behind it as behind any regenerator.
    /// Refused (false: the client is told `Z`) only while a `lockgen` lease of another
    /// connection is live; a lease from an earlier meta win is taken over, since memcached's own
    /// item marks already decided this win. A full table does not cost the client its win.
    public func claimMetaWin(_ key: LockKey, requester: Requester, leaseMilliseconds: Int) -> Bool {
        activity.add(1, ordering: .sequentiallyConsistent)
        defer { activity.subtract(1, ordering: .sequentiallyConsistent) }
        return shards[key].withLock { shard in
            let now = MonotonicClock.milliseconds()
            if let entry = shard.entries[key] { expireIfDue(entry, key: key, in: shard, now: now) }
            // A lockgen lease stands: another connection's refuses the win, this one's keeps its token.
            if let lease = shard.entries[key]?.lease, !lease.meta { return lease.holder == requester }
            guard let entry = shard.entries[key] ?? makeEntry(key, in: shard) else { return true }
            entry.lease = Lease(token: shared.tokens.next(), holder: requester, expiresAt: now + Int64(leaseMilliseconds), meta: true)
            return true
        }
    }

    // MARK: - Ending leases

    /// `setgen`: runs `store` (which returns the stored value, or nil if the store failed) only
    /// while `token` names the key's live lease. Returns nil for `NOT_OWNER`; otherwise whether
    /// the store succeeded. A successful store ends the lease and hands the value to every waiter.
    public func setgen(_ key: LockKey, token: UInt64, store: () -> Value?) -> Bool? {
        var woken: [WaiterTicket] = []
        var stored: Value?
        let result: Bool? = shards[key].withLock { shard in
            guard let entry = shard.entries[key] else { return nil }
            expireIfDue(entry, key: key, in: shard, now: MonotonicClock.milliseconds())
            guard let lease = entry.lease, lease.token == token else { return nil }
            guard let value = store() else { return false }
            stored = value
            woken = finish(entry, key: key, in: shard)
            return true
        }
        if let stored, !woken.isEmpty { shared.sink.wake(woken, .value(stored)) }
        return result
    }

    /// `unlockgen`: ends the lease if `token` names it; the oldest waiter is elected.
    public func unlockgen(_ key: LockKey, token: UInt64) -> Bool {
        shards[key].withLock { shard in
            guard let entry = shard.entries[key] else { return false }
            expireIfDue(entry, key: key, in: shard, now: MonotonicClock.milliseconds())
            guard let lease = entry.lease, lease.token == token else { return false }
            entry.lease = nil
            electOrRemove(entry, key: key, in: shard)
            return true
        }
    }

    /// A value was stored under `key` by any verb: the lease ends and every waiter gets `value`.
    public func valueStored(_ key: UnsafeRawBufferPointer, value: Value) {
        guard activity.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let owned = LockKey(key)
        let woken: [WaiterTicket] = shards[owned].withLock { shard in
            guard let entry = shard.entries[owned] else { return [] }
            return finish(entry, key: owned, in: shard)
        }
        if !woken.isEmpty { shared.sink.wake(woken, .value(value)) }
    }

    /// The lease on `key` ends without a value (`delete`): the oldest waiter is elected.
    public func endLease(_ key: UnsafeRawBufferPointer) {
        guard activity.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let owned = LockKey(key)
        shards[owned].withLock { shard in
            guard let entry = shard.entries[owned], entry.lease != nil else { return }
            entry.lease = nil
            electOrRemove(entry, key: owned, in: shard)
        }
    }

    /// Ends the leases of every key `matches` selects (invalidation, `flush_all`).
    public func endLeases(where matches: (LockKey) -> Bool) {
        shards.forEachLocked { shard in
            for (key, entry) in shard.entries where entry.lease != nil && matches(key) {
                entry.lease = nil
                electOrRemove(entry, key: key, in: shard)
            }
        }
    }

    /// A connection closed: its leases end (waiters elected) and its waits are withdrawn.
    public func connectionClosed(_ requester: Requester) {
        shards.forEachLocked { shard in
            for (key, entry) in shard.entries {
                entry.waiters.removeAll { $0.ticket.requester == requester }
                if entry.lease?.holder == requester { entry.lease = nil }
                electOrRemove(entry, key: key, in: shard)
            }
        }
    }

    // MARK: - Timers

    /// A parked request's timer fired: ends an overdue lease (electing the oldest waiter, which
    /// may be this one) and times this waiter out if its own deadline has passed.
    public func checkTimers(_ key: LockKey, ticket: WaiterTicket, now: Int64) -> WaitTimerOutcome {
        shards[key].withLock { shard in
            guard let entry = shard.entries[key] else { return .answered }
            expireIfDue(entry, key: key, in: shard, now: now)
            guard let index = entry.waiters.firstIndex(where: { $0.ticket == ticket }) else { return .answered }
            let waiter = entry.waiters[index]
            if waiter.deadline <= now {
                entry.waiters.remove(at: index)
                shared.statistics.lockgenTimeouts.increment()
                if entry.lease == nil { electOrRemove(entry, key: key, in: shard) }
                return .timedOut
            }
            return .waiting(nextCheck: min(waiter.deadline, entry.lease?.expiresAt ?? waiter.deadline))
        }
    }

    /// Ends every overdue lease (the once-a-second sweep for leases nobody waits on).
    public func sweep(now: Int64) {
        shards.forEachLocked { shard in
            for (key, entry) in shard.entries { expireIfDue(entry, key: key, in: shard, now: now) }
        }
    }

    /// Answers every waiter with ``WakeOutcome/shuttingDown``.
    public func shutdown() {
        shards.forEachLocked { shard in
            for entry in shard.entries.values {
                for waiter in entry.waiters { shared.sink.wake(waiter.ticket, .shuttingDown) }
                entry.waiters.removeAll()
            }
        }
    }

    /// Entries (keys with a lease or waiters) and waiting requests.
    public func counts() -> (entries: Int, leases: Int, waiters: Int) {
        var result = (entries: 0, leases: 0, waiters: 0)
        shards.forEachLocked { shard in
            result.entries += shard.entries.count
            for entry in shard.entries.values {
                if entry.lease != nil { result.leases += 1 }
                result.waiters += entry.waiters.count
            }
        }
        return result
    }

    // MARK: - Internals (shard lock held)

    private func makeEntry(_ key: LockKey, in shard: TableShard<Entry>) -> Entry? {
        guard shared.budget.reserve() else { return nil }
        let entry = Entry()
        shard.entries[key] = entry
        activity.add(1, ordering: .sequentiallyConsistent)
        return entry
    }

    private func remove(_ key: LockKey, in shard: TableShard<Entry>) {
        guard shard.entries.removeValue(forKey: key) != nil else { return }
        shared.budget.release()
        activity.subtract(1, ordering: .sequentiallyConsistent)
    }

    private func expireIfDue(_ entry: Entry, key: LockKey, in shard: TableShard<Entry>, now: Int64) {
        guard let lease = entry.lease, lease.expiresAt <= now else { return }
        entry.lease = nil
        shared.statistics.leasesExpired.increment()
        electOrRemove(entry, key: key, in: shard)
    }

    /// With no lease held: the oldest waiter gets a lease of its own, or the entry goes.
    private func electOrRemove(_ entry: Entry, key: LockKey, in shard: TableShard<Entry>) {
        guard entry.lease == nil else { return }
        guard !entry.waiters.isEmpty else {
            remove(key, in: shard)
            return
        }
        let waiter = entry.waiters.removeFirst()
        let token = shared.tokens.next()
        entry.lease = Lease(
            token: token, holder: waiter.ticket.requester,
            expiresAt: MonotonicClock.milliseconds() + Int64(waiter.leaseMilliseconds))
        shared.statistics.lockgenGen.increment()
        shared.sink.wake(waiter.ticket, .granted(token: token))
    }

    /// A value arrived: the lease and the entry go; returns the waiters, to be handed the value
    /// in one batch once the shard lock is released (the wake-ups are many, and a waiter that
    /// times out meanwhile finds itself already answered).
    private func finish(_ entry: Entry, key: LockKey, in shard: TableShard<Entry>) -> [WaiterTicket] {
        let tickets = entry.waiters.map(\.ticket)
        entry.waiters.removeAll()
        entry.lease = nil
        remove(key, in: shard)
        return tickets
    }
}
