/// A TLS set-up failure, with memcached's wording where memcached has one.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    /// What failed.
    public let description: String

    /// An error with `description` (without memcached's trailing CRLF).
    public init(_ description: String) {
        self.description = description
    }
}
