/// One `-l` entry as memcached reads it: `[notls:]<host>[:<port>]`, an IPv6 host in brackets
/// when it has a port (`[::1]:11212`). Without a port the entry uses `-p`; `notls:` keeps that
/// listener plain TCP when `-Z` is on.
public struct ListenAddress: Equatable, Sendable {
    /// The host to bind.
    public var host: String
    /// The port given with the host, or nil for `-p`.
    public var port: Int?
    /// Whether TLS is off for this listener (`notls:`).
    public var noTLS: Bool

    /// Parses one entry; nil if the port is not a number in 0...65535.
    public init?(_ text: String) {
        var rest = Substring(text)
        noTLS = rest.hasPrefix("notls:")
        if noTLS { rest = rest.dropFirst("notls:".count) }
        port = nil
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.isEmpty { return }
            guard after.hasPrefix(":"), let number = Int(after.dropFirst()), (0...65535).contains(number) else { return nil }
            port = number
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            guard let number = Int(rest[rest.index(after: colon)...]), (0...65535).contains(number) else { return nil }
            port = number
        } else {
            host = String(rest)
        }
    }
}
