/// An error from ``DogpileClient``: a stable ``code`` to switch on, plus details for people.
///
/// New codes may be added without breaking anyone, so match with `==` (or `switch` on
/// `error.code` with a `default:`):
///
/// ```swift
/// do { try await region.getOrCreate("42") { try await load(42) } }
/// catch let error as DogpileClientError where error.code == .busy { ... }
/// ```
public struct DogpileClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable identifier.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The identifier, e.g. `"busy"`.
        public let name: String
        private init(_ name: String) { self.name = name }
        /// The identifier.
        public var description: String { name }

        /// `ERROR`: the daemon did not know the command (or the number of tokens was wrong).
        public static let unknownCommand = Code("unknownCommand")
        /// `CLIENT_ERROR ...`: the daemon refused the request (bad format, key too long...).
        public static let clientError = Code("clientError")
        /// `SERVER_ERROR ...` not covered by a more precise code (e.g. `object too large for cache`).
        public static let serverError = Code("serverError")
        /// `SERVER_ERROR too many locks`: the daemon's `max_locks` is reached.
        public static let tooManyLocks = Code("tooManyLocks")
        /// `SERVER_ERROR out of memory ...`.
        public static let outOfMemory = Code("outOfMemory")
        /// `SERVER_ERROR shutting down`: the daemon is stopping; its waiters are answered this.
        public static let shuttingDown = Code("shuttingDown")
        /// `NOT_OWNER`: the token names no live lease or hold (it ended, or was never ours).
        public static let notOwner = Code("notOwner")
        /// `BUSY` until the caller's deadline: nobody produced the value, or the mutex stayed held.
        public static let busy = Code("busy")
        /// No reply within the request's timeout (its `wait_ms` plus a margin); the connection was closed.
        public static let timeout = Code("timeout")
        /// The connection could not be made, or closed before the reply.
        public static let connectionFailed = Code("connectionFailed")
        /// The key's daemon is marked dead (it failed recently); retried after `retryDeadAfter`.
        public static let daemonDead = Code("daemonDead")
        /// The bytes from the daemon were not the text protocol, or not the reply expected.
        public static let protocolError = Code("protocolError")
        /// A key, region name or argument was refused before anything was sent.
        public static let invalidArgument = Code("invalidArgument")
        /// A region is not declared on a daemon (`stats regions` does not list it).
        public static let regionNotDeclared = Code("regionNotDeclared")
        /// A value could not be encoded or decoded with the region's value format.
        public static let valueFormat = Code("valueFormat")
        /// The client was shut down.
        public static let clientShutdown = Code("clientShutdown")
        /// The daemon (started with `-Y`) refused the ``Credentials``, or wants some and none
        /// were configured (`CLIENT_ERROR unauthenticated`).
        public static let authenticationFailed = Code("authenticationFailed")
        /// The TLS handshake failed, or the ``DogpileClient/Configuration/tls`` configuration
        /// could not be made into a context (a missing certificate file, say).
        public static let tlsFailed = Code("tlsFailed")
    }

    /// What went wrong.
    public var code: Code
    /// A message for people, with the details (the server's text, the key, the timeout...).
    public var message: String
    /// The daemon concerned (`host:port` or a socket path), when there is one.
    public var daemon: String?
    /// The key or name concerned, when there is one.
    public var key: String?

    /// Makes an error.
    public init(_ code: Code, _ message: String, daemon: String? = nil, key: String? = nil) {
        self.code = code
        self.message = message
        self.daemon = daemon
        self.key = key
    }

    /// `code: message (key K, daemon D)`.
    public var description: String {
        var text = "\(code): \(message)"
        var details: [String] = []
        if let key { details.append("key \(key)") }
        if let daemon { details.append("daemon \(daemon)") }
        if !details.isEmpty { text += " (" + details.joined(separator: ", ") + ")" }
        return text
    }

    /// The error for a server error line, or nil if `reply` is not one.
    static func from(_ reply: Reply, daemon: String, key: String? = nil) -> DogpileClientError? {
        switch reply {
        case .error:
            return DogpileClientError(.unknownCommand, "ERROR", daemon: daemon, key: key)
        case .clientError(let text) where text == "unauthenticated":
            return DogpileClientError(.authenticationFailed, "CLIENT_ERROR unauthenticated: the daemon wants credentials", daemon: daemon, key: key)
        case .clientError(let text):
            return DogpileClientError(.clientError, "CLIENT_ERROR \(text)", daemon: daemon, key: key)
        case .serverError(let text):
            let code: Code
            if text.hasPrefix("too many locks") {
                code = .tooManyLocks
            } else if text.hasPrefix("out of memory") {
                code = .outOfMemory
            } else if text.hasPrefix("shutting down") {
                code = .shuttingDown
            } else {
                code = .serverError
            }
            return DogpileClientError(code, "SERVER_ERROR \(text)", daemon: daemon, key: key)
        case .status(.notOwner):
            return DogpileClientError(.notOwner, "NOT_OWNER", daemon: daemon, key: key)
        default:
            return nil
        }
    }

    /// The error for a reply that does not fit the request: a server error, or a protocol error.
    static func unexpected(_ reply: Reply, daemon: String, key: String? = nil, request: String) -> DogpileClientError {
        if let error = from(reply, daemon: daemon, key: key) { return error }
        return DogpileClientError(.protocolError, "unexpected reply to \(request): \(reply)", daemon: daemon, key: key)
    }
}
