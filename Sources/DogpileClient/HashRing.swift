import Crypto

/// libmemcached's consistent ketama ring with weights (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`), as
/// pylibmc uses it with `behaviors={"ketama_weighted": True}` and `host:port:weight` servers.
///
/// Built as libmemcached 1.0's `update_continuum` builds it:
/// - each server gets `floor(weight / totalWeight * 160 / 4 * serverCount + 1e-10) * 4` points,
///   computed in 32-bit floats as the C code does;
/// - for `i` in `0 ..< points / 4`, the string `host:port-i` (`host-i` when the port is 11211;
///   a Unix socket is `path:0-i`, its port being 0) is hashed with MD5, and each of the digest's
///   four 4-byte little-endian words is a point;
/// - points are sorted; a key's hash is the first little-endian word of MD5(key), and its server
///   is the first point at or above it, wrapping to the first point.
///
/// Checked against pylibmc's choices for 10,000 keys (`Tests/Fixtures/ketama/weights-1-2-3.tsv`).
public struct HashRing: Sendable {
    private struct Point: Sendable {
        var value: UInt32
        var server: Int
    }

    /// The servers, in the order given (their indexes are what ``serverIndex(for:)`` returns).
    public let servers: [ServerAddress]
    private let points: [Point]

    /// libmemcached's MEMCACHED_POINTS_PER_SERVER_KETAMA.
    static let pointsPerServer = 160
    /// libmemcached's MEMCACHED_DEFAULT_PORT, for which the port is left out of the point strings.
    static let defaultPort = 11211

    /// Builds the ring over `servers` (in this order, as libmemcached keeps them unsorted).
    public init(servers: [ServerAddress]) {
        self.servers = servers
        let totalWeight = servers.reduce(0) { $0 + $1.weight }
        var points: [Point] = []
        for (index, server) in servers.enumerated() {
            let share = Float(server.weight) / Float(totalWeight)
            let scaled = share * Float(Self.pointsPerServer) / 4 * Float(servers.count)
            // (float)(scaled + 0.0000000001): the C expression is computed in double, then narrowed.
            let count = Int(Float(Double(scaled) + 0.0000000001).rounded(.down)) * 4
            let (host, port) = server.ringHostAndPort
            for i in 0..<(count / 4) {
                let label = port == Self.defaultPort ? "\(host)-\(i)" : "\(host):\(port)-\(i)"
                let digest = Array(Insecure.MD5.hash(data: Array(label.utf8)))
                for alignment in 0..<4 {
                    points.append(Point(value: Self.word(digest, alignment), server: index))
                }
            }
        }
        // Stable on equal values keeps the result deterministic (libmemcached's qsort is not).
        self.points = points.enumerated().sorted {
            $0.element.value != $1.element.value ? $0.element.value < $1.element.value : $0.offset < $1.offset
        }.map(\.element)
    }

    /// The hash libmemcached gives `key` (MD5, first word, little-endian).
    public static func hash(_ key: [UInt8]) -> UInt32 {
        word(Array(Insecure.MD5.hash(data: key)), 0)
    }

    /// The index in ``servers`` of the daemon that holds `key`, or nil if the ring is empty.
    public func serverIndex(for key: [UInt8]) -> Int? {
        guard !points.isEmpty else { return nil }
        let hash = Self.hash(key)
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].value < hash { low = middle + 1 } else { high = middle }
        }
        return points[low == points.count ? 0 : low].server
    }

    /// The daemon that holds `key` (its UTF-8 bytes), or nil if the ring is empty.
    public func server(for key: String) -> ServerAddress? {
        serverIndex(for: Array(key.utf8)).map { servers[$0] }
    }

    /// How many points each server has on the ring, in server order (for tests and diagnostics).
    public var pointCounts: [Int] {
        var counts = [Int](repeating: 0, count: servers.count)
        for point in points { counts[point.server] += 1 }
        return counts
    }

    private static func word(_ digest: [UInt8], _ alignment: Int) -> UInt32 {
        let base = alignment * 4
        return UInt32(digest[base + 3]) << 24 | UInt32(digest[base + 2]) << 16
            | UInt32(digest[base + 1]) << 8 | UInt32(digest[base])
    }
}
