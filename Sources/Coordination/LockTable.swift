import Synchronization

/// A sharded table of per-key lock state machines (``GenerationLease`` or ``NamedMutex``): the
/// one shell both `lockgen` and the named mutexes run in.
///
/// The shell owns what the entries must not: the shard locks, the `max_locks` budget, the clock,
/// the timers (a deadline heap per shard, so leases end and waits run out without scanning), and
/// the index of what each connection holds or waits for (so closing costs O(its own keys)). An
/// entry exists only while something is held or awaited (the seed's NameRegistry semantics).
///
/// Every event runs under its key's shard lock; the entry answers with ``LockAction``s, the index
/// and timers are brought up to date under the same lock, and the wake-ups are carried out only
/// after it is released. The caller's store lookup of `lockgen` runs inside the lock, so a store
/// racing with a request about to park cannot slip between the two. Stores take the store's lock
/// first and this table's only after releasing it; this table may take the store's inside its
/// own. One order, no deadlock.
///
/// The table is `@inlinable` so the server's module specializes it for its item type: unspecialized,
/// every dictionary operation on a generic entry goes through value witnesses, which doubled the
/// cost of a lock verb in a release build.
public final class LockTable<Entry: LockEntry, Value>: @unchecked Sendable {
    @usableFromInline let shards: [LockShard<Entry>]
    @usableFromInline let context: LockTableContext<Value>
    @usableFromInline let visits = Atomic<UInt64>(0)
    @usableFromInline let stopped = Atomic<Bool>(false)
    /// Entries plus creating events in flight: zero lets a store skip this table entirely.
    @usableFromInline let activity = Atomic<Int>(0)

    /// Creates an empty table sharing `context` with the other lock table.
    public init(context: LockTableContext<Value>, shardCount: Int = 16) {
        precondition(shardCount > 0 && shardCount & (shardCount - 1) == 0, "shard count must be a power of two")
        self.context = context
        self.shards = (0..<shardCount).map { _ in LockShard<Entry>() }
    }

    /// Entries visited by ``connectionClosed(_:)`` since the start: proves that closing costs what
    /// the connection holds, not the size of the table (`close_visits` in `stats locks`).
    @inlinable public var closeVisits: UInt64 { visits.load(ordering: .relaxed) }

    /// Whether ``shutdown()`` ran: no new holds or waits are admitted after it.
    @inlinable public var isShutDown: Bool { stopped.load(ordering: .acquiring) }

    // MARK: - Events on one key

    /// Runs `body` on the entry of `key` under its shard lock, then keeps the table's books and
    /// carries out the wake-ups. Without an entry, `body` runs on a fresh one if `create` (kept
    /// only if it ends up holding or awaiting something, and only if the budget allows: `full`
    /// otherwise), else the answer is `absent`. `value` is what a `deliver` hands over.
    @inlinable
    func perform<Result>(
        _ key: LockKey, create: Bool = false, absent: Result, full: Result, now: Int64? = nil,
        value: () -> Value? = { nil }, _ body: (inout Entry, inout LockStep) -> Result
    ) -> Result {
        if create { activity.add(1, ordering: .sequentiallyConsistent) }
        defer { if create { activity.subtract(1, ordering: .sequentiallyConsistent) } }
        let (result, actions) = shard(of: key).withLock { shard in
            process(shard, key, now: now ?? context.clock.now(), create: create, absent: absent, full: full, body)
        }
        carryOut(actions, key: key, value: actions.isEmpty ? nil : value())
        return result
    }

    /// A connection closed: its holds end (the queue is served) and its waits are withdrawn.
    /// Visits only the keys the index lists for it.
    @inlinable
    public func connectionClosed(_ requester: Requester) {
        let now = context.clock.now()
        for shard in shards {
            let batches: [(LockKey, [LockAction])] = shard.withLock { shard in
                guard let keys = shard.owners.removeValue(forKey: requester)?.all else { return [] }
                visits.add(UInt64(keys.count), ordering: .relaxed)
                return keys.map { key in
                    (key, process(shard, key, now: now, create: false, absent: (), full: ()) { entry, step in
                        entry.withdraw(requester, &step)
                    }.1)
                }
            }
            for (key, actions) in batches { carryOut(actions, key: key, value: nil) }
        }
    }

    /// Lets time pass on every key whose deadline is due: leases and holds end, waits run out
    /// (`BUSY`), queues are served. Costs O(due keys · log n). Returns how many keys were due.
    @discardableResult @inlinable
    public func fireTimers(now: Int64? = nil) -> Int {
        let now = now ?? context.clock.now()
        var fired = 0
        for shard in shards {
            let batches: [(LockKey, [LockAction])] = shard.withLock { shard in
                var batches: [(LockKey, [LockAction])] = []
                while let (deadline, key) = shard.timers.first, deadline <= now {
                    let actions = process(shard, key, now: now, create: false, absent: (), full: ()) { entry, step in
                        entry.advance(&step)
                    }.1
                    // An entry must not stay due after time passed; never spin on one.
                    if let next = shard.timers.deadline(of: key), next <= now { shard.timers.schedule(key, at: now + 1) }
                    batches.append((key, actions))
                }
                return batches
            }
            fired += batches.count
            for (key, actions) in batches { carryOut(actions, key: key, value: nil) }
        }
        return fired
    }

    /// A parked request's own timer fired: time passes on its key, and the answer says whether it
    /// still waits, ran out (and was removed: answer `BUSY`), or was answered through the sink.
    @inlinable
    public func checkTimers(_ key: LockKey, ticket: WaiterTicket, now: Int64? = nil) -> WaitTimerOutcome {
        perform(key, absent: .answered, full: .answered, now: now) { entry, step in
            entry.advance(&step)
            if step.takeBusy(for: ticket) {
                count(.busy(ticket))
                return .timedOut
            }
            guard entry.waits(ticket) else { return .answered }
            return .waiting(nextCheck: entry.nextDeadline ?? step.now)
        }
    }

    /// Answers every waiter with ``WakeOutcome/shuttingDown`` and admits no new hold or wait.
    @inlinable
    public func shutdown() {
        stopped.store(true, ordering: .releasing)
        let now = context.clock.now()
        for shard in shards {
            let batches: [(LockKey, [LockAction])] = shard.withLock { shard in
                Array(shard.entries.keys).map { key in
                    (key, process(shard, key, now: now, create: false, absent: (), full: ()) { entry, step in
                        entry.shutdown(&step)
                    }.1)
                }
            }
            for (key, actions) in batches { carryOut(actions, key: key, value: nil) }
        }
    }

    /// Runs `body` on every entry whose key `matches` (invalidation, `flush_all`): O(table size),
    /// as those commands are.
    @inlinable
    func performAll(where matches: (LockKey) -> Bool, _ body: (inout Entry, inout LockStep) -> Void) {
        let now = context.clock.now()
        for shard in shards {
            let batches: [(LockKey, [LockAction])] = shard.withLock { shard in
                shard.entries.keys.filter(matches).map { key in
                    (key, process(shard, key, now: now, create: false, absent: (), full: (), body).1)
                }
            }
            for (key, actions) in batches { carryOut(actions, key: key, value: nil) }
        }
    }

    /// Entries (keys or names with a hold or a waiter), holds and waiting requests; O(shards).
    @inlinable
    public func counts() -> (entries: Int, holds: Int, waiters: Int) {
        var result = (entries: 0, holds: 0, waiters: 0)
        for shard in shards {
            shard.withLock { shard in
                result.entries += shard.entries.count
                result.holds += shard.holds
                result.waiters += shard.waiters
            }
        }
        return result
    }

    /// Whether the ownership index and the timers match the entries exactly (for tests).
    func booksBalance() -> Bool {
        shards.allSatisfy { shard in
            shard.withLock { shard in
                var expected: [Requester: Set<LockKey>] = [:]
                for (key, entry) in shard.entries {
                    for requester in entry.participants { expected[requester, default: []].insert(key) }
                    guard shard.timers.deadline(of: key) == entry.nextDeadline else { return false }
                }
                return expected == shard.owners.mapValues(\.asSet) && shard.timers.count == shard.entries.count
            }
        }
    }

    // MARK: - Internals

    @inlinable
    func shard(of key: LockKey) -> LockShard<Entry> {
        shards[key.shard(of: shards.count)]
    }

    /// One event on one key, shard lock held: the entry changes, then the budget, timers, totals
    /// and ownership index follow it. Returns the entry's actions for ``carryOut(_:key:value:)``.
    @inlinable
    func process<Result>(
        _ shard: LockShard<Entry>, _ key: LockKey, now: Int64, create: Bool, absent: Result, full: Result,
        _ body: (inout Entry, inout LockStep) -> Result
    ) -> (Result, [LockAction]) {
        var step = LockStep(now: now, tokens: context.tokens)
        let result: Result
        if let index = shard.entries.index(forKey: key) {
            // One hash lookup, and one in-place access to the entry: no copy of its arrays.
            let (answer, change) = Self.apply(body, to: &shard.entries.values[index], &step)
            result = answer
            shard.holds += change.holds
            shard.waiters += change.waiters
            if change.idle {
                shard.entries.remove(at: index)
                shard.timers.schedule(key, at: nil)
                context.budget.release()
                activity.subtract(1, ordering: .sequentiallyConsistent)
            } else if change.deadline != change.previousDeadline {
                shard.timers.schedule(key, at: change.deadline)
            }
        } else if create {
            var entry = Entry()
            result = body(&entry, &step)
            if !entry.isIdle {
                guard context.budget.reserve() else { return (full, []) }
                shard.entries[key] = entry
                activity.add(1, ordering: .sequentiallyConsistent)
                shard.holds += entry.holdCount
                shard.waiters += entry.waiterCount
                shard.timers.schedule(key, at: entry.nextDeadline)
            }
        } else {
            return (absent, [])
        }
        shard.index(step.actions, key: key)
        return (result, step.actions)
    }

    /// What an event did to an entry, read during the one access to it.
    @usableFromInline
    struct Change {
        @usableFromInline var holds: Int
        @usableFromInline var waiters: Int
        @usableFromInline var idle: Bool
        @usableFromInline var previousDeadline: Int64?
        @usableFromInline var deadline: Int64?

        @inlinable
        init(holds: Int, waiters: Int, idle: Bool, previousDeadline: Int64?, deadline: Int64?) {
            (self.holds, self.waiters, self.idle) = (holds, waiters, idle)
            (self.previousDeadline, self.deadline) = (previousDeadline, deadline)
        }
    }

    /// Runs `body` on `entry` and measures the change (totals, idleness, next deadline).
    @inlinable
    static func apply<Result>(
        _ body: (inout Entry, inout LockStep) -> Result, to entry: inout Entry, _ step: inout LockStep
    ) -> (Result, Change) {
        let (holds, waiters, previousDeadline) = (entry.holdCount, entry.waiterCount, entry.nextDeadline)
        let result = body(&entry, &step)
        let idle = entry.isIdle
        return (result, Change(
            holds: entry.holdCount - holds, waiters: entry.waiterCount - waiters, idle: idle,
            previousDeadline: previousDeadline, deadline: idle ? nil : entry.nextDeadline))
    }

    /// Counts what the actions say happened and delivers the wake-ups (no lock held).
    @inlinable
    func carryOut(_ actions: [LockAction], key: LockKey, value: Value?) {
        var wakes: [Wake<Value>] = []
        for action in actions {
            count(action)
            let outcome: WakeOutcome<Value>
            let ticket: WaiterTicket
            switch action {
            case .grant(let waiter, let token): (ticket, outcome) = (waiter, .granted(token: token))
            case .busy(let waiter): (ticket, outcome) = (waiter, .timedOut)
            case .shuttingDown(let waiter): (ticket, outcome) = (waiter, .shuttingDown)
            case .deliver(let waiter):
                guard let value else { continue }
                (ticket, outcome) = (waiter, .value(value))
            case .joined, .left, .expired: continue
            }
            // Sized once at the first wake-up: a fan-out to N waiters allocates once, not
            // 2 log2 N times as growing by doubling does.
            if wakes.isEmpty { wakes.reserveCapacity(actions.count) }
            wakes.append(Wake(ticket: ticket, key: key, kind: Entry.kind, outcome: outcome))
        }
        if !wakes.isEmpty { context.sink.wake(wakes) }
    }

    /// The stampede counters an action moves.
    @inlinable
    func count(_ action: LockAction) {
        let statistics = context.statistics
        switch (Entry.kind, action) {
        case (.generation, .grant): statistics.lockgenGen.increment()
        case (.generation, .busy): statistics.lockgenTimeouts.increment()
        case (.generation, .expired): statistics.leasesExpired.increment()
        case (.mutex, .grant): statistics.mutexLocked.increment()
        case (.mutex, .busy): statistics.mutexTimeouts.increment()
        case (.mutex, .expired): statistics.mutexExpired.increment()
        default: break
        }
    }
}
