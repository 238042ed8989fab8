/// Where a daemon listens, and its weight on the ring.
///
/// Written as libmemcached and pylibmc write servers: `host[:port[:weight]]` (TCP; an IPv6 host
/// in brackets, `[::1]:11211:2`), or `/path/to/socket[:weight]` or `unix:/path[:weight]` (a Unix
/// socket). The port defaults to 11211, the weight to 1.
public struct ServerAddress: Hashable, Sendable, CustomStringConvertible {
    /// TCP or Unix socket.
    public enum Endpoint: Hashable, Sendable {
        /// A TCP host name or address and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)
    }

    /// The endpoint.
    public var endpoint: Endpoint
    /// The weight on the ketama ring (libmemcached's KETAMA_WEIGHTED), at least 1.
    public var weight: Int

    /// A TCP daemon.
    public init(host: String, port: Int, weight: Int = 1) {
        self.endpoint = .tcp(host: host, port: port)
        self.weight = max(1, weight)
    }

    /// A Unix socket daemon.
    public init(unixPath: String, weight: Int = 1) {
        self.endpoint = .unix(path: unixPath)
        self.weight = max(1, weight)
    }

    /// Parses `host[:port[:weight]]`, `/socket/path[:weight]` or `unix:/socket/path[:weight]`.
    public init(parsing text: String) throws {
        let invalid = DogpileClientError(.invalidArgument, "not a server address (host:port[:weight] or /path[:weight]): '\(text)'")
        if text.hasPrefix("unix:/") {
            try self.init(parsing: String(text.dropFirst(5)))
            return
        }
        if text.hasPrefix("/") {
            var path = Substring(text)
            var weight = 1
            if let colon = path.lastIndex(of: ":"), let parsed = Int(path[path.index(after: colon)...]) {
                weight = parsed
                path = path[..<colon]
            }
            guard !path.isEmpty, weight >= 1 else { throw invalid }
            self.init(unixPath: String(path), weight: weight)
            return
        }
        var host: Substring
        var rest: [Substring]
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid }
            host = text[text.index(after: text.startIndex)..<close]
            rest = text[text.index(after: close)...].split(separator: ":", omittingEmptySubsequences: false).dropFirst().map { $0 }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            host = parts[0]
            rest = Array(parts.dropFirst())
        }
        if rest.isEmpty { rest = ["11211"] }
        guard !host.isEmpty, rest.count <= 2,
              let port = Int(rest[0]), (1...65535).contains(port) else { throw invalid }
        var weight = 1
        if rest.count == 2 {
            guard let parsed = Int(rest[1]), parsed >= 1 else { throw invalid }
            weight = parsed
        }
        self.init(host: String(host), port: port, weight: weight)
    }

    /// Parses a comma-separated list: `127.0.0.1:11211:1,127.0.0.1:11212:2`.
    public static func parseList(_ text: String) throws -> [ServerAddress] {
        try text.split(separator: ",").map { try ServerAddress(parsing: $0.trimmingSpaces()) }
    }

    /// The TCP port, or nil for a Unix socket.
    public var port: Int? {
        if case .tcp(_, let port) = endpoint { return port }
        return nil
    }

    /// `host:port` or the socket path: how errors and logs name the daemon.
    public var name: String {
        switch endpoint {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        }
    }

    /// The same as ``name``.
    public var description: String { name }

    /// The host string and port libmemcached hashes for the ring (a socket: its path and port 0).
    var ringHostAndPort: (host: String, port: Int) {
        switch endpoint {
        case .tcp(let host, let port): return (host, port)
        case .unix(let path): return (path, 0)
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
