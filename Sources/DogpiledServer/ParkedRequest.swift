import Coordination

/// A request waiting on the server for a lease, a value or a mutex.
struct ParkedRequest {
    /// What the request waits for.
    enum Kind {
        /// `lockgen`: a value or the generation lease of `key`.
        case generation
        /// `lock` / `rlock` of `key` (the mutex name).
        case mutex
    }

    var kind: Kind
    /// The key or mutex name.
    var key: LockKey
    /// Identifies this wait to the tables.
    var ticket: WaiterTicket
}
