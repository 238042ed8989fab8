/// The `-Y` inputs of the connection's machine: while ``AuthenticationState/awaitingCredentials``
/// the driver decodes requests with `AuthenticationParser` instead of the text parser and
/// reports each outcome here.
extension ConnectionStateMachine {
    /// Whether requests are authentication attempts (nothing else runs yet).
    var needsCredentials: Bool {
        if case .awaitingCredentials = authentication { return true }
        return false
    }

    /// An unauthenticated request was refused: its reply replaces any reply held from the same
    /// batch (memcached's overwritten response object).
    mutating func refused(_ reply: PreAuthenticationReply) {
        guard needsCredentials else { return }
        authentication = .awaitingCredentials(held: reply)
    }

    /// The credentials matched. A reply held from this batch is dropped (memcached overwrites it
    /// with `STORED`, which the driver queues now, before the replies of what follows).
    mutating func authenticated() {
        guard needsCredentials else { return }
        authentication = .authenticated
    }

    /// The batch ends: the reply to queue, if an unauthenticated request left one.
    mutating func takeHeldReply() -> PreAuthenticationReply? {
        guard case .awaitingCredentials(let held?) = authentication else { return nil }
        authentication = .awaitingCredentials(held: nil)
        return held
    }

    /// An unauthenticated client sent a line longer than memcached's 2 KB without a newline, or a
    /// data block larger than its 16 KB read buffer: memcached closes without a reply, and so does
    /// this; the batch sees the closed state and stops.
    mutating func credentialsOverran() {
        guard needsCredentials else { return }
        authentication = .awaitingCredentials(held: nil)
        closeFromBatch()
    }
}
