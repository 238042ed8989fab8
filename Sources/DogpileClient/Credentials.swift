/// A username and password for daemons started with `-Y` (memcached's ASCII authentication).
///
/// Every connection the client opens sends them first, as memcached expects: a `set` whose data
/// is `<username> <password>`, answered `STORED`. A connection is never used before that reply.
public struct Credentials: Sendable, Hashable {
    /// The username; no spaces, line breaks or NUL bytes.
    public var username: String
    /// The password; no spaces, line breaks or NUL bytes.
    public var password: String

    /// Credentials for `username` and `password`.
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The data of the authentication `set`, or an ``DogpileClientError/Code/invalidArgument``
    /// error: memcached splits the line on spaces, so neither part may hold one (nor a line break).
    func line() throws -> [UInt8] {
        for part in [username, password] {
            guard !part.isEmpty, !part.utf8.contains(where: { $0 == 0x20 || $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw DogpileClientError(.invalidArgument, "a username or password must be non-empty, without spaces or line breaks")
            }
        }
        return Array("\(username) \(password)".utf8)
    }
}
