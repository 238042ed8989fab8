import Foundation
import Testing
@testable import DogpileClient

/// The ring against pylibmc's own placements (the golden fixture from the Python side).
@Suite struct HashRingTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/ketama/weights-1-2-3.tsv")

    static let servers = [
        ServerAddress(host: "127.0.0.1", port: 21001, weight: 1),
        ServerAddress(host: "127.0.0.1", port: 21002, weight: 2),
        ServerAddress(host: "127.0.0.1", port: 21003, weight: 3),
    ]

    @Test func agreesWithPylibmcOnTenThousandKeys() throws {
        let text = try String(contentsOf: Self.fixture, encoding: .utf8)
        let ring = HashRing(servers: Self.servers)
        var checked = 0
        var mismatches: [String] = []
        var perServer: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            try #require(fields.count == 2)
            let chosen = ring.server(for: String(fields[0]))!.name
            perServer[chosen, default: 0] += 1
            if chosen != fields[1] { mismatches.append("\(fields[0]): \(chosen) != \(fields[1])") }
            checked += 1
        }
        #expect(checked == 10_000)
        #expect(mismatches.isEmpty, "\(mismatches.count) keys differ, e.g. \(mismatches.prefix(5))")
        // docs/clients.md: pylibmc placed 1417, 3761 and 4822 keys.
        #expect(perServer == ["127.0.0.1:21001": 1417, "127.0.0.1:21002": 3761, "127.0.0.1:21003": 4822])
    }

    @Test func pointsPerServerFollowTheWeights() {
        #expect(HashRing(servers: Self.servers).pointCounts == [80, 160, 240])
        #expect(HashRing(servers: [Self.servers[0]]).pointCounts == [160])
    }

    @Test func theWorkedExampleOfClientsMd() {
        // MD5("key-0") = b4428b7e..., hash 0x7e8b42b4; it lives on 127.0.0.1:21003.
        #expect(HashRing.hash(Array("key-0".utf8)) == 0x7E8B_42B4)
        #expect(HashRing(servers: Self.servers).server(for: "key-0")?.name == "127.0.0.1:21003")
    }

    /// Unix sockets (hashed as `path:0-i`), port 11211 (left out of the point names) and uneven
    /// weights, as the Python ring places them (which docs/clients.md reports checked against
    /// pylibmc; 5,000 keys of each agreed with the Swift ring when this was written).
    @Test(arguments: [
        ("/tmp/a.sock,/tmp/b.sock,/tmp/c.sock", ["key-0": "/tmp/b.sock", "key-1": "/tmp/b.sock", "key-2": "/tmp/b.sock", "key-3": "/tmp/a.sock", "key-5": "/tmp/a.sock", "key-8": "/tmp/a.sock", "key-13": "/tmp/a.sock", "key-21": "/tmp/c.sock", "key-34": "/tmp/c.sock", "key-55": "/tmp/b.sock", "key-89": "/tmp/c.sock", "key-144": "/tmp/b.sock"]),
        ("10.0.0.1:11211:3,10.0.0.2:11211:7,10.0.0.3:11300:11,cache-4:2", ["key-0": "cache-4:2", "key-1": "10.0.0.2:11211", "key-2": "10.0.0.1:11211", "key-3": "cache-4:2", "key-5": "10.0.0.2:11211", "key-8": "10.0.0.2:11211", "key-13": "10.0.0.1:11211", "key-21": "10.0.0.3:11300", "key-34": "10.0.0.3:11300", "key-55": "cache-4:2", "key-89": "10.0.0.1:11211", "key-144": "10.0.0.2:11211"]),
    ])
    func socketsDefaultPortAndUnevenWeights(_ servers: String, _ expected: [String: String]) throws {
        let ring = HashRing(servers: try ServerAddress.parseList(servers))
        for (key, server) in expected {
            #expect(ring.server(for: key)?.name == server, "\(key)")
        }
    }

    @Test func oneServerTakesEveryKey() {
        let ring = HashRing(servers: [ServerAddress(host: "10.0.0.5", port: 11211)])
        for index in 0..<100 { #expect(ring.serverIndex(for: Array("k\(index)".utf8)) == 0) }
    }

    @Test func removingAServerMovesOnlyItsKeys() {
        let full = HashRing(servers: Self.servers)
        let without = HashRing(servers: [Self.servers[0], Self.servers[2]])
        for index in 0..<2000 {
            let key = "key-\(index)"
            let before = full.server(for: key)!
            if before != Self.servers[1] { #expect(without.server(for: key) == before) }
        }
    }
}

/// Server lists as libmemcached and the Python client write them.
@Suite struct ServerAddressTests {
    @Test func parsesTheForms() throws {
        #expect(try ServerAddress(parsing: "127.0.0.1:11212:3") == ServerAddress(host: "127.0.0.1", port: 11212, weight: 3))
        #expect(try ServerAddress(parsing: "cache1") == ServerAddress(host: "cache1", port: 11211))
        #expect(try ServerAddress(parsing: "[::1]:11300:2") == ServerAddress(host: "::1", port: 11300, weight: 2))
        #expect(try ServerAddress(parsing: "/run/d.sock:2") == ServerAddress(unixPath: "/run/d.sock", weight: 2))
        #expect(try ServerAddress(parsing: "unix:/run/d.sock") == ServerAddress(unixPath: "/run/d.sock"))
        #expect(try ServerAddress.parseList("a:1, b:2:5").map(\.name) == ["a:1", "b:2"])
        #expect(try ServerAddress(parsing: "[::1]:11300").name == "[::1]:11300")
    }

    @Test(arguments: ["", ":11211", "h:0", "h:70000", "h:1:0", "h:x", "h:1:2:3", "[::1"])
    func refusesBadForms(_ text: String) {
        #expect(throws: DogpileClientError.self) { try ServerAddress(parsing: text) }
    }
}
