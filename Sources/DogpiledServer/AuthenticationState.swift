/// Where a connection is with `-Y` authentication (memcached's ASCII auth), a part of
/// ``ConnectionStateMachine``.
enum AuthenticationState: Equatable {
    /// The server has no auth file: every request runs.
    case notRequired
    /// Nothing runs until the authentication `set` succeeds. memcached 1.6.18 keeps one reply
    /// object for the unauthenticated requests of a read and overwrites it with each, so only the
    /// last reply of a batch is sent: `held` is that reply until the batch ends.
    case awaitingCredentials(held: PreAuthenticationReply?)
    /// The client authenticated: every request runs from now on.
    case authenticated
}

/// The replies a connection gets before it authenticates (memcached 1.6.18's texts).
enum PreAuthenticationReply: Equatable {
    /// Any request other than the authentication `set`.
    case unauthenticated
    /// The `set`'s data did not end in `\r\n`.
    case badTermination
    /// The data held fewer than two words.
    case badTokenFormat
    /// The user and password are not in the auth file.
    case failure

    /// The line sent.
    var line: StaticString {
        switch self {
        case .unauthenticated: "CLIENT_ERROR unauthenticated\r\n"
        case .badTermination: "CLIENT_ERROR bad command line termination\r\n"
        case .badTokenFormat: "CLIENT_ERROR bad authentication token format\r\n"
        case .failure: "CLIENT_ERROR authentication failure\r\n"
        }
    }
}
