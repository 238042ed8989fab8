/// One named mutex (`lock`, `rlock`, `unlock`, `renew`) as a value: events in, ``LockAction``s
/// out.
///
/// Holders are one writer or any number of readers; waiters queue first come, first served. A
/// waiting writer stops new readers from entering, so writers are not starved (the seed's
/// ReadWriteMutex, across processes and with writer preference). Overdue waiters are answered
/// `BUSY` before the queue is served, so nobody is granted after its own `wait_ms`.
public struct NamedMutex: LockEntry {
    /// Exclusive (`lock`) or shared (`rlock`).
    public enum Mode: Sendable, Equatable { case exclusive, shared }

    struct Hold: Equatable {
        var token: UInt64
        var holder: Requester
        var mode: Mode
        var expiresAt: Int64
    }

    struct Waiter: Equatable {
        var ticket: WaiterTicket
        var mode: Mode
        var leaseMilliseconds: Int
        var deadline: Int64
    }

    /// What the table should answer a `lock` or `rlock`.
    public enum Decision: Equatable, Sendable {
        /// Granted (`LOCKED <token>`).
        case locked(token: UInt64)
        /// Not granted, no waiting (`BUSY`).
        case busy
        /// Waiting; check again at `nextCheck`.
        case parked(nextCheck: Int64)
    }

    public static var kind: LockKind { .mutex }

    private(set) var holds: [Hold] = []
    private(set) var waiters: [Waiter] = []

    public init() {}

    public var isIdle: Bool { holds.isEmpty && waiters.isEmpty }
    /// Whether the holds are one exclusive grant (`lock`) rather than readers' (`rlock`).
    public var heldExclusively: Bool { holds.first?.mode == .exclusive }
    public var holdCount: Int { holds.count }
    public var waiterCount: Int { waiters.count }

    public var nextDeadline: Int64? {
        // A loop, not map + min: this runs after every event on the name.
        var earliest: Int64?
        for hold in holds where earliest == nil || hold.expiresAt < earliest! { earliest = hold.expiresAt }
        for waiter in waiters where earliest == nil || waiter.deadline < earliest! { earliest = waiter.deadline }
        return earliest
    }

    public var participants: [Requester] {
        holds.map(\.holder) + waiters.map(\.ticket.requester)
    }

    public func waits(_ ticket: WaiterTicket) -> Bool {
        waiters.contains { $0.ticket == ticket }
    }

    // MARK: - Events

    /// `lock` / `rlock`. `deadline` is the request's arrival plus its `wait_ms`.
    public mutating func lock(
        mode: Mode, requester: Requester, ticket: WaiterTicket, leaseMilliseconds: Int,
        waitMilliseconds: Int, deadline: Int64, _ step: inout LockStep
    ) -> Decision {
        advance(&step)
        // No re-entry: an rlock-to-lock upgrade fails fast instead of deadlocking.
        if holds.contains(where: { $0.holder == requester }) { return .busy }
        if waiters.isEmpty && compatible(mode) {
            let token = step.nextToken()
            holds.append(Hold(token: token, holder: requester, mode: mode, expiresAt: step.now + Int64(leaseMilliseconds)))
            step.emit(.joined(requester))
            return .locked(token: token)
        }
        guard waitMilliseconds > 0, deadline > step.now else { return .busy }
        waiters.append(Waiter(ticket: ticket, mode: mode, leaseMilliseconds: leaseMilliseconds, deadline: deadline))
        step.emit(.joined(requester))
        return .parked(nextCheck: nextDeadline ?? deadline)
    }

    /// `unlock`: ends the hold `token` names, from any connection.
    public mutating func unlock(_ token: UInt64, _ step: inout LockStep) -> Bool {
        advance(&step)
        guard let index = holds.firstIndex(where: { $0.token == token }) else { return false }
        let hold = holds.remove(at: index)
        leave(hold.holder, &step)
        promote(&step)
        return true
    }

    /// `renew`: extends a live hold to `leaseMilliseconds` from now.
    public mutating func renew(_ token: UInt64, leaseMilliseconds: Int, _ step: inout LockStep) -> Bool {
        advance(&step)
        guard let index = holds.firstIndex(where: { $0.token == token }) else { return false }
        holds[index].expiresAt = step.now + Int64(leaseMilliseconds)
        return true
    }

    public mutating func advance(_ step: inout LockStep) {
        let now = step.now
        if waiters.contains(where: { $0.deadline <= now }) {
            let overdue = waiters.filter { $0.deadline <= now }
            waiters.removeAll { $0.deadline <= now }
            for waiter in overdue {
                step.emit(.busy(waiter.ticket))
                leave(waiter.ticket.requester, &step)
            }
        }
        if holds.contains(where: { $0.expiresAt <= now }) {
            let expired = holds.filter { $0.expiresAt <= now }
            holds.removeAll { $0.expiresAt <= now }
            for hold in expired {
                step.emit(.expired(hold.holder))
                leave(hold.holder, &step)
            }
        }
        promote(&step)
    }

    public mutating func withdraw(_ requester: Requester, _ step: inout LockStep) {
        let before = holds.count + waiters.count
        holds.removeAll { $0.holder == requester }
        waiters.removeAll { $0.ticket.requester == requester }
        if holds.count + waiters.count != before { step.emit(.left(requester)) }
        advance(&step)
    }

    public mutating func shutdown(_ step: inout LockStep) {
        let answered = waiters
        waiters.removeAll()
        for waiter in answered {
            step.emit(.shuttingDown(waiter.ticket))
            leave(waiter.ticket.requester, &step)
        }
    }

    // MARK: - Internals

    private func compatible(_ mode: Mode) -> Bool {
        switch mode {
        case .exclusive: holds.isEmpty
        case .shared: !holds.contains { $0.mode == .exclusive }
        }
    }

    /// `requester` gave up one role here; it leaves the index only if it has none left.
    private func leave(_ requester: Requester, _ step: inout LockStep) {
        if !holds.contains(where: { $0.holder == requester }) && !waiters.contains(where: { $0.ticket.requester == requester }) {
            step.emit(.left(requester))
        }
    }

    /// Serves the queue in order while its head is compatible with the holders.
    private mutating func promote(_ step: inout LockStep) {
        while let head = waiters.first, compatible(head.mode) {
            waiters.removeFirst()
            let token = step.nextToken()
            holds.append(Hold(token: token, holder: head.ticket.requester, mode: head.mode, expiresAt: step.now + Int64(head.leaseMilliseconds)))
            step.emit(.grant(head.ticket, token: token))
            if head.mode == .exclusive { break }
        }
    }
}
