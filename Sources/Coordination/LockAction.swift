/// What a per-key lock entry asks its table to do after an event. The entry is a plain value;
/// the table keeps its indexes up to date from these and carries out the wake-ups once the shard
/// lock is released.
public enum LockAction: Sendable, Equatable {
    /// `requester` now holds or waits on the key: the table indexes the key under it.
    case joined(Requester)
    /// `requester` neither holds nor waits on the key any more.
    case left(Requester)
    /// Wake `ticket`: it now holds the lease or mutex with `token`.
    case grant(WaiterTicket, token: UInt64)
    /// Wake `ticket` with the value just stored.
    case deliver(WaiterTicket)
    /// Wake `ticket`: its wait ran out (`BUSY`).
    case busy(WaiterTicket)
    /// Wake `ticket`: the server is stopping.
    case shuttingDown(WaiterTicket)
    /// A hold of `requester` ran out (`leases_expired`, `mutex_expired`).
    case expired(Requester)
}
