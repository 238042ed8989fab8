/// The server's `-Y` credentials, shared by every worker and replaced whole on SIGHUP.
///
/// A check happens once per connection, so a mutex costs nothing that matters; a reload that
/// fails keeps the credentials in force (memcached swaps only a file that parsed).
public final class Authenticator: Sendable {
    /// The auth file's path (`-Y`), shown by `stats settings` as `auth_enabled_ascii`.
    public let path: String
    private let credentials: PThreadLocked<AuthFile>

    /// Loads `path`; throws memcached's start-up failures.
    public init(path: String) throws(AuthFileError) {
        self.path = path
        self.credentials = PThreadLocked(try AuthFile.load(path: path))
    }

    /// Reads the file again; on failure the old credentials stay.
    public func reload() throws(AuthFileError) {
        let fresh = try AuthFile.load(path: path)
        credentials.withLock { $0 = fresh }
    }

    /// Whether the pair is in the file.
    func check(user: UnsafeRawBufferPointer, password: UnsafeRawBufferPointer) -> Bool {
        credentials.withLock { $0.check(user: user, password: password) }
    }
}
