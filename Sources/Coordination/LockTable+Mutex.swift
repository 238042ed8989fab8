import Synchronization

/// The named-mutex table: `lock`, `rlock`, `unlock`, `renew`.
public typealias MutexTable<Value> = LockTable<NamedMutex, Value>

extension LockTable where Entry == NamedMutex {
    /// `lockstate <name>`: who holds and waits, after letting time pass; creates no entry, takes
    /// no budget, counts in no stat.
    @inlinable
    public func state(of name: LockKey) -> LockState {
        perform(name, absent: .free, full: .free) { entry, step in
            entry.advance(&step)
            return LockState(holders: entry.holdCount, exclusive: entry.heldExclusively, waiters: entry.waiterCount)
        }
    }

    /// `lock` / `rlock`. `arrival` is when the request's bytes were read (monotonic ms; now if
    /// nil): its wait is counted from there.
    @inlinable
    public func lock(
        _ name: LockKey, mode: NamedMutex.Mode, requester: Requester, ticket: WaiterTicket, arrival: Int64? = nil,
        leaseMilliseconds: Int, waitMilliseconds: Int
    ) -> MutexOutcome {
        let statistics = context.statistics
        return perform(name, create: true, absent: .busy, full: .tooManyLocks) { entry, step in
            // Under the shard lock, as for lockgen.
            guard !isShutDown else { return .shuttingDown }
            let deadline = min(arrival ?? step.now, step.now) + Int64(waitMilliseconds)
            switch entry.lock(
                mode: mode, requester: requester, ticket: ticket, leaseMilliseconds: leaseMilliseconds,
                waitMilliseconds: waitMilliseconds, deadline: deadline, &step)
            {
            case .locked(let token):
                statistics.mutexLocked.increment()
                return .locked(token: token)
            case .busy:
                statistics.mutexTimeouts.increment()
                return .busy
            case .parked(let nextCheck):
                statistics.mutexWaits.increment()
                return .parked(nextCheck: nextCheck)
            }
        }
    }

    /// `unlock`: ends the hold `token` names, from any connection.
    @inlinable
    public func unlock(_ name: LockKey, token: UInt64) -> Bool {
        perform(name, absent: false, full: false) { entry, step in entry.unlock(token, &step) }
    }

    /// `renew`: extends a live hold to `leaseMilliseconds` from now.
    @inlinable
    public func renew(_ name: LockKey, token: UInt64, leaseMilliseconds: Int) -> Bool {
        perform(name, absent: false, full: false) { entry, step in entry.renew(token, leaseMilliseconds: leaseMilliseconds, &step) }
    }
}
