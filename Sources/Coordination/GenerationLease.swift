import Dogpile

/// The generation lease of one key (`lockgen`, `setgen`, `unlockgen`) and the requests waiting
/// for it, as a value: events in, ``LockAction``s out.
///
/// Waiters are answered by the first of: a stored value (all of them, `HIT`), the lease ending
/// without a value (the oldest one still in time is elected), or their own deadline (`BUSY`).
/// Every event first lets time pass (``advance(_:)``), and overdue waiters are answered before
/// anyone is elected, so a waiter is never granted a lease after its own `wait_ms`.
public struct GenerationLease: LockEntry {
    struct Lease: Equatable {
        var token: UInt64
        var holder: Requester
        var expiresAt: Int64
        /// When it was granted: `setgen` measures the regeneration time (Δ) from here.
        var grantedAt: Int64
        /// Granted on a fresh value ahead of its expiry (early recompute).
        var early = false
        /// Taken for a meta command's recache win (`mg` answering `W`) rather than by `lockgen`.
        var meta = false
    }

    struct Waiter: Equatable {
        var ticket: WaiterTicket
        var leaseMilliseconds: Int
        var deadline: Int64
    }

    /// What the table should answer a `lockgen`.
    public enum Decision: Equatable, Sendable {
        /// Serve the fresh value (`HIT`).
        case useValue
        /// Serve the stale copy: someone else regenerates (`STALE`).
        case useStaleValue
        /// The caller now holds the lease (`GEN`).
        case generate(token: UInt64)
        /// No value, and no waiting: `wait_ms` 0, the caller's own lease, or its deadline already
        /// passed on arrival (`BUSY`).
        case busy
        /// The request waits; check it again at `nextCheck`.
        case parked(nextCheck: Int64)
    }

    public static var kind: LockKind { .generation }

    private(set) var lease: Lease?
    private(set) var waiters: [Waiter] = []
    /// The earliest deadline among `waiters` (`.max` with none), kept as they come and go: the
    /// table asks for it on every event, and a scan per event made parking n waiters O(n²).
    private var earliestWaiterDeadline = Int64.max

    public init() {}

    public var isIdle: Bool { lease == nil && waiters.isEmpty }
    public var holdCount: Int { lease == nil ? 0 : 1 }
    public var waiterCount: Int { waiters.count }

    public var nextDeadline: Int64? {
        let earliest = min(lease?.expiresAt ?? .max, earliestWaiterDeadline)
        return earliest == .max ? nil : earliest
    }

    public var participants: [Requester] {
        (lease.map { [$0.holder] } ?? []) + waiters.map(\.ticket.requester)
    }

    /// The token of the live lease, if any.
    public var token: UInt64? { lease?.token }

    /// The live lease as `setgen` completes it at `now`: how long it was held, and whether it
    /// was an early-recompute grant.
    public func completion(at now: Int64) -> CompletedLease? {
        lease.map { CompletedLease(heldMilliseconds: now - $0.grantedAt, early: $0.early) }
    }

    public func waits(_ ticket: WaiterTicket) -> Bool {
        waiters.contains { $0.ticket == ticket }
    }

    // MARK: - Events

    /// `lockgen` with the store's answer `value`: serve, grant, refuse or park. `deadline` is the
    /// request's arrival plus its `wait_ms`.
    public mutating func lockgen(
        value: GenerationDecision.ValueState, requester: Requester, ticket: WaiterTicket,
        leaseMilliseconds: Int, waitMilliseconds: Int, deadline: Int64, _ step: inout LockStep
    ) -> Decision {
        advance(&step)
        switch GenerationDecision.decide(value: value, leaseHeld: lease != nil) {
        case .useValue:
            return .useValue
        case .useStaleValue:
            return .useStaleValue
        case .regenerate:
            let token = step.nextToken()
            lease = Lease(
                token: token, holder: requester, expiresAt: step.now + Int64(leaseMilliseconds), grantedAt: step.now,
                early: value == .expiring)
            step.emit(.joined(requester))
            return .generate(token: token)
        case .waitForValue:
            // A connection never waits on itself; an overdue request is not a waiter.
            guard let lease, lease.holder != requester, waitMilliseconds > 0, deadline > step.now else { return .busy }
            waiters.append(Waiter(ticket: ticket, leaseMilliseconds: leaseMilliseconds, deadline: deadline))
            earliestWaiterDeadline = min(earliestWaiterDeadline, deadline)
            step.emit(.joined(requester))
            return .parked(nextCheck: min(deadline, lease.expiresAt))
        }
    }

    /// A meta command hands `requester` a recache win (`W`): the winner takes the lease, so
    /// `lockgen` callers wait behind it as behind any regenerator. Refused (false: the meta client
    /// is told `Z`) only while another connection's `lockgen` lease is live; its own keeps its
    /// token, and an earlier meta win is taken over, since memcached's item marks already decided
    /// this one.
    public mutating func claimMetaWin(requester: Requester, leaseMilliseconds: Int, _ step: inout LockStep) -> Bool {
        advance(&step)
        if let lease {
            if !lease.meta { return lease.holder == requester }
            if lease.holder == requester { return true }
            self.lease = nil
            leave(lease.holder, &step)
        }
        lease = Lease(
            token: step.nextToken(), holder: requester, expiresAt: step.now + Int64(leaseMilliseconds),
            grantedAt: step.now, meta: true)
        step.emit(.joined(requester))
        return true
    }

    /// Whether `token` names the live lease (`setgen` stores only then).
    public mutating func owns(_ token: UInt64, _ step: inout LockStep) -> Bool {
        advance(&step)
        return lease?.token == token
    }

    /// A value was stored under the key: the lease ends and every waiter gets the value.
    public mutating func valueStored(_ step: inout LockStep) {
        advance(&step)
        let answered = waiters
        let holder = lease?.holder
        lease = nil
        waiters.removeAll()
        earliestWaiterDeadline = .max
        if let holder { leave(holder, &step) }
        for waiter in answered {
            step.emit(.deliver(waiter.ticket))
            leave(waiter.ticket.requester, &step)
        }
    }

    /// `unlockgen`: ends the lease if `token` names it; the oldest waiter in time is elected.
    public mutating func release(_ token: UInt64, _ step: inout LockStep) -> Bool {
        advance(&step)
        guard let lease, lease.token == token else { return false }
        endLease(&step)
        return true
    }

    /// The lease ends without a value (`delete`, invalidation, `flush_all`).
    public mutating func endLease(_ step: inout LockStep) {
        advance(&step)
        guard let lease else { return }
        self.lease = nil
        leave(lease.holder, &step)
        elect(&step)
    }

    public mutating func advance(_ step: inout LockStep) {
        // Overdue waiters first: one whose deadline falls at the very moment the lease ends gets
        // BUSY, not the lease.
        if earliestWaiterDeadline <= step.now {
            let now = step.now
            let overdue = waiters.filter { $0.deadline <= now }
            waiters.removeAll { $0.deadline <= now }
            waitersLeft()
            for waiter in overdue {
                step.emit(.busy(waiter.ticket))
                leave(waiter.ticket.requester, &step)
            }
        }
        if let lease, lease.expiresAt <= step.now {
            self.lease = nil
            step.emit(.expired(lease.holder))
            leave(lease.holder, &step)
        }
        elect(&step)
    }

    public mutating func withdraw(_ requester: Requester, _ step: inout LockStep) {
        let before = waiters.count
        waiters.removeAll { $0.ticket.requester == requester }
        var involved = waiters.count != before
        if involved { waitersLeft() }
        if lease?.holder == requester {
            lease = nil
            involved = true
        }
        if involved { step.emit(.left(requester)) }
        advance(&step)
    }

    public mutating func shutdown(_ step: inout LockStep) {
        let answered = waiters
        waiters.removeAll()
        earliestWaiterDeadline = .max
        for waiter in answered {
            step.emit(.shuttingDown(waiter.ticket))
            leave(waiter.ticket.requester, &step)
        }
    }

    // MARK: - Internals

    /// Some waiters left: the earliest deadline is found again among those still here.
    private mutating func waitersLeft() {
        earliestWaiterDeadline = waiters.isEmpty ? .max : waiters.reduce(Int64.max) { min($0, $1.deadline) }
    }

    /// `requester` gave up one role here; it leaves the index only if it has none left (a
    /// connection parks one request at a time, but the books must not depend on it).
    private func leave(_ requester: Requester, _ step: inout LockStep) {
        if lease?.holder != requester && !waiters.contains(where: { $0.ticket.requester == requester }) {
            step.emit(.left(requester))
        }
    }

    /// With no lease held: the oldest waiter gets a lease of its own, counted from now.
    private mutating func elect(_ step: inout LockStep) {
        guard lease == nil, !waiters.isEmpty else { return }
        let waiter = waiters.removeFirst()
        waitersLeft()
        let token = step.nextToken()
        lease = Lease(
            token: token, holder: waiter.ticket.requester, expiresAt: step.now + Int64(waiter.leaseMilliseconds),
            grantedAt: step.now)
        step.emit(.grant(waiter.ticket, token: token))
    }
}
