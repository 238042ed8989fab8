import Synchronization

/// The connection one or more generation leases were granted on, checked out of its pool until
/// the last of them is over.
///
/// The daemon ends a lease when its holder's connection closes, so the connection must stay
/// out of the pool (no other caller may close or reuse it) while any lease on it is live.
/// `lockgen` grants one lease per connection; `mlockgen` may grant several on one.
final class LeaseConnection: Sendable {
    /// The connection the leases' `setgen`/`unlockgen` go on (they may be pipelined).
    let connection: Connection
    private let pool: ConnectionPool
    private let state: Mutex<(holders: Int, reusable: Bool)>

    /// `holders` leases share `connection` from now on; it must be at least 1.
    init(connection: Connection, pool: ConnectionPool, holders: Int) {
        precondition(holders >= 1)
        self.connection = connection
        self.pool = pool
        self.state = Mutex((holders, true))
    }

    /// One lease is over. The last returns the connection to the pool, closed if any lease's
    /// request failed (its state on the daemon is then unknown; closing ends the other leases).
    func release(reusable: Bool) {
        let (last, keep) = state.withLock { state -> (Bool, Bool) in
            state.holders -= 1
            if !reusable { state.reusable = false }
            return (state.holders == 0, state.reusable)
        }
        if !reusable && !last {
            // A failed request leaves the stream out of step: close now, which ends every lease on it.
            connection.close()
        }
        if last { pool.checkin(connection, reusable: keep) }
    }
}
