/// Named distributed mutexes with leases: `lock`, `rlock`, `unlock`, `renew`.
///
/// Each name has holders (one writer, or any number of readers) and a first-come-first-served
/// queue. A waiting writer stops new readers from entering, so writers are not starved (the
/// seed's ReadWriteMutex, across processes and with writer preference). A hold ends on `unlock`,
/// when its lease passes, or when its connection closes; the queue is then served in order.
/// Entries exist only while held or awaited and count against the shared ``LockBudget``.
public final class MutexTable: @unchecked Sendable {
    /// Exclusive (`lock`) or shared (`rlock`).
    public enum Mode: Sendable { case exclusive, shared }

    struct Hold {
        var token: UInt64
        var holder: Requester
        var mode: Mode
        var expiresAt: Int64
    }

    struct Waiter {
        var ticket: WaiterTicket
        var mode: Mode
        var leaseMilliseconds: Int
        var deadline: Int64
    }

    final class Entry {
        var holds: [Hold] = []
        var waiters: [Waiter] = []
        var isIdle: Bool { holds.isEmpty && waiters.isEmpty }
    }

    /// The answer to `lock`/`rlock`.
    public enum LockOutcome: Equatable {
        /// Granted (`LOCKED <token>`).
        case locked(token: UInt64)
        /// Not granted, no waiting (`BUSY`).
        case busy
        /// Waiting; check again at `nextCheck` ms.
        case parked(nextCheck: Int64)
        /// The table is full.
        case tooManyLocks
    }

    private let shards: TableShards<Entry>
    private let shared: LockTableContext

    /// Creates an empty table sharing `context` with the other lock table.
    public init(context: LockTableContext, shardCount: Int = 16) {
        self.shared = context
        self.shards = TableShards(count: shardCount)
    }


    /// `lock` / `rlock`.
    public func lock(
        _ name: LockKey, mode: Mode, requester: Requester, ticket: WaiterTicket,
        leaseMilliseconds: Int, waitMilliseconds: Int
    ) -> LockOutcome {
        shards[name].withLock { shard in
            let now = MonotonicClock.milliseconds()
            var entry = shard.entries[name]
            if let existing = entry {
                expireHolds(existing, now: now)
                promote(existing, now: now)
            }
            if entry == nil {
                guard shared.budget.reserve() else { return .tooManyLocks }
                entry = Entry()
                shard.entries[name] = entry
            }
            let target = entry!
            if target.holds.contains(where: { $0.holder == requester }) {
                // No re-entry: an rlock-to-lock upgrade fails fast instead of deadlocking.
                removeIfIdle(target, name, in: shard)
                return .busy
            }
            if target.waiters.isEmpty && compatible(mode, with: target) {
                let token = shared.tokens.next()
                target.holds.append(Hold(token: token, holder: requester, mode: mode, expiresAt: now + Int64(leaseMilliseconds)))
                shared.statistics.mutexLocked.increment()
                return .locked(token: token)
            }
            guard waitMilliseconds > 0 else {
                shared.statistics.mutexTimeouts.increment()
                removeIfIdle(target, name, in: shard)
                return .busy
            }
            let deadline = now + Int64(waitMilliseconds)
            target.waiters.append(Waiter(ticket: ticket, mode: mode, leaseMilliseconds: leaseMilliseconds, deadline: deadline))
            shared.statistics.mutexWaits.increment()
            return .parked(nextCheck: min(deadline, earliestExpiry(target) ?? deadline))
        }
    }

    /// `unlock`: ends the hold `token` names, from any connection.
    public func unlock(_ name: LockKey, token: UInt64) -> Bool {
        shards[name].withLock { shard in
            guard let entry = shard.entries[name] else { return false }
            let now = MonotonicClock.milliseconds()
            expireHolds(entry, now: now)
            guard let index = entry.holds.firstIndex(where: { $0.token == token }) else {
                promote(entry, now: now)
                removeIfIdle(entry, name, in: shard)
                return false
            }
            entry.holds.remove(at: index)
            promote(entry, now: now)
            removeIfIdle(entry, name, in: shard)
            return true
        }
    }

    /// `renew`: extends a live hold to `leaseMilliseconds` from now.
    public func renew(_ name: LockKey, token: UInt64, leaseMilliseconds: Int) -> Bool {
        shards[name].withLock { shard in
            guard let entry = shard.entries[name] else { return false }
            let now = MonotonicClock.milliseconds()
            expireHolds(entry, now: now)
            promote(entry, now: now)
            guard let index = entry.holds.firstIndex(where: { $0.token == token }) else {
                removeIfIdle(entry, name, in: shard)
                return false
            }
            entry.holds[index].expiresAt = now + Int64(leaseMilliseconds)
            return true
        }
    }

    /// A waiter's timer fired.
    public func checkTimers(_ name: LockKey, ticket: WaiterTicket, now: Int64) -> WaitTimerOutcome {
        shards[name].withLock { shard in
            guard let entry = shard.entries[name] else { return .answered }
            expireHolds(entry, now: now)
            promote(entry, now: now)
            guard let index = entry.waiters.firstIndex(where: { $0.ticket == ticket }) else {
                removeIfIdle(entry, name, in: shard)
                return .answered
            }
            let waiter = entry.waiters[index]
            if waiter.deadline <= now {
                entry.waiters.remove(at: index)
                shared.statistics.mutexTimeouts.increment()
                promote(entry, now: now)
                removeIfIdle(entry, name, in: shard)
                return .timedOut
            }
            return .waiting(nextCheck: min(waiter.deadline, earliestExpiry(entry) ?? waiter.deadline))
        }
    }

    /// A connection closed: its holds end and its waits are withdrawn.
    public func connectionClosed(_ requester: Requester) {
        let now = MonotonicClock.milliseconds()
        shards.forEachLocked { shard in
            for (name, entry) in shard.entries {
                entry.holds.removeAll { $0.holder == requester }
                entry.waiters.removeAll { $0.ticket.requester == requester }
                promote(entry, now: now)
                removeIfIdle(entry, name, in: shard)
            }
        }
    }

    /// Ends overdue holds everywhere (the once-a-second sweep).
    public func sweep(now: Int64) {
        shards.forEachLocked { shard in
            for (name, entry) in shard.entries {
                expireHolds(entry, now: now)
                promote(entry, now: now)
                removeIfIdle(entry, name, in: shard)
            }
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

    /// Names in the table, holds and waiting requests.
    public func counts() -> (entries: Int, holds: Int, waiters: Int) {
        var result = (entries: 0, holds: 0, waiters: 0)
        shards.forEachLocked { shard in
            result.entries += shard.entries.count
            for entry in shard.entries.values {
                result.holds += entry.holds.count
                result.waiters += entry.waiters.count
            }
        }
        return result
    }

    // MARK: - Internals (shard lock held)

    private func compatible(_ mode: Mode, with entry: Entry) -> Bool {
        switch mode {
        case .exclusive: entry.holds.isEmpty
        case .shared: !entry.holds.contains { $0.mode == .exclusive }
        }
    }

    private func earliestExpiry(_ entry: Entry) -> Int64? {
        entry.holds.map(\.expiresAt).min()
    }

    private func expireHolds(_ entry: Entry, now: Int64) {
        let before = entry.holds.count
        entry.holds.removeAll { $0.expiresAt <= now }
        let expired = before - entry.holds.count
        if expired > 0 { shared.statistics.mutexExpired.wrappingAdd(UInt64(expired), ordering: .relaxed) }
    }

    /// Serves the queue in order while its head is compatible with the holders.
    private func promote(_ entry: Entry, now: Int64) {
        while let head = entry.waiters.first, compatible(head.mode, with: entry) {
            entry.waiters.removeFirst()
            let token = shared.tokens.next()
            entry.holds.append(Hold(token: token, holder: head.ticket.requester, mode: head.mode, expiresAt: now + Int64(head.leaseMilliseconds)))
            shared.statistics.mutexLocked.increment()
            shared.sink.wake(head.ticket, .granted(token: token))
            if head.mode == .exclusive { break }
        }
    }

    private func removeIfIdle(_ entry: Entry, _ name: LockKey, in shard: TableShard<Entry>) {
        guard entry.isIdle, shard.entries.removeValue(forKey: name) != nil else { return }
        shared.budget.release()
    }
}
