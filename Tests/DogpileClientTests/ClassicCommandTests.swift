import Foundation
import Testing
@testable import DogpileClient

/// Every classic command against the real daemon, over three daemons.
@Suite(.serialized) struct ClassicCommandTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func storageAndRetrieval() async throws {
        try await Fleet.with(3, weights: [1, 2, 3]) { fleet in
            let client = fleet.client
            try await client.set("plain", Self.bytes("hello"), flags: 42, exptime: 0)
            let item = try #require(try await client.get("plain"))
            #expect(item.string == "hello")
            #expect(item.flags == 42)
            #expect(item.cas == nil)
            #expect(try await client.get("absent") == nil)

            // add / replace
            #expect(try await client.add("plain", Self.bytes("x")) == false)
            #expect(try await client.add("fresh", Self.bytes("a")) == true)
            #expect(try await client.replace("nothing", Self.bytes("x")) == false)
            #expect(try await client.replace("fresh", Self.bytes("b")) == true)
            // append / prepend
            #expect(try await client.append("fresh", Self.bytes("c")) == true)
            #expect(try await client.prepend("fresh", Self.bytes("_")) == true)
            #expect(try await client.append("nothing", Self.bytes("c")) == false)
            #expect(try await client.get("fresh")?.string == "_bc")

            // gets / cas
            let withCAS = try #require(try await client.gets("fresh"))
            let unique = try #require(withCAS.cas)
            #expect(try await client.cas("fresh", Self.bytes("new"), cas: unique &+ 1000) == .exists)
            #expect(try await client.cas("fresh", Self.bytes("new"), cas: unique) == .stored)
            #expect(try await client.cas("fresh", Self.bytes("again"), cas: unique) == .exists)
            #expect(try await client.cas("nothing", Self.bytes("x"), cas: 1) == .notFound)
            #expect(try await client.get("fresh")?.string == "new")

            // delete
            #expect(try await client.delete("fresh") == true)
            #expect(try await client.delete("fresh") == false)

            // incr / decr
            try await client.set("n", Self.bytes("10"))
            #expect(try await client.increment("n", by: 5) == 15)
            #expect(try await client.decrement("n", by: 20) == 0)
            try await client.set("n", Self.bytes("18446744073709551615"))
            #expect(try await client.increment("n") == 0)
            #expect(try await client.increment("missing") == nil)
            #expect(try await client.decrement("missing") == nil)
            await expectError(.clientError) { try await client.increment("plain") }

            // touch / gat / gats
            #expect(try await client.touch("plain", exptime: 100) == true)
            #expect(try await client.touch("missing", exptime: 100) == false)
            #expect(try await client.gat("plain", exptime: 200)?.string == "hello")
            let gats = try #require(try await client.gats("plain", exptime: 300))
            #expect(gats.cas != nil)
            #expect(try await client.gat("missing", exptime: 1) == nil)
            // A negative exptime expires the item at once (memcached's rule).
            #expect(try await client.touch("plain", exptime: -1) == true)
            #expect(try await client.get("plain") == nil)
        }
    }

    @Test func multiGetFansOutToTheDaemonsThatHoldTheKeys() async throws {
        try await Fleet.with(3, weights: [1, 2, 3]) { fleet in
            let client = fleet.client
            let keys = (0..<60).map { "multi-\($0)" }
            for key in keys { try await client.set(key, Self.bytes("v-\(key)")) }
            let start = ContinuousClock.now
            let found = try await client.get(keys + ["multi-absent"])
            print("multi-get of 61 keys over 3 daemons: \(milliseconds(since: start)) ms")
            #expect(found.count == 60)
            for key in keys { #expect(found[key]?.string == "v-\(key)") }
            let withCAS = try await client.gets(Array(keys.prefix(10)))
            #expect(withCAS.values.allSatisfy { $0.cas != nil } && withCAS.count == 10)
            #expect(try await client.gat(Array(keys.prefix(5)), exptime: 100).count == 5)
            #expect(try await client.gats(Array(keys.prefix(5)), exptime: 100).values.allSatisfy { $0.cas != nil })

            // Each key really is on the daemon the ring names, and only there.
            var used = Set<String>()
            for (index, daemon) in fleet.daemons.enumerated() {
                let direct = try fleet.direct(index)
                defer { direct.shutdown() }
                let held = try await direct.get(keys)
                for key in keys {
                    let owner = client.server(for: key).port
                    #expect((held[key] != nil) == (owner == daemon.port), "\(key)")
                }
                if !held.isEmpty { used.insert(daemon.address) }
            }
            #expect(used.count == 3)
        }
    }

    @Test func adminCommands() async throws {
        try await Fleet.with(2) { fleet in
            let client = fleet.client
            let versions = try await client.version()
            #expect(versions.count == 2 && versions.values.allSatisfy { !$0.isEmpty })

            let stats = try await client.stats()
            for daemon in fleet.daemons {
                let lines = try #require(stats[daemon.address])
                #expect(lines.contains(ReplyStat(name: "pid", value: String(daemon.pid))))
                #expect(lines.contains { $0.name == "lockgen_gen" })
            }
            let regions = try await client.stats("regions")
            #expect(regions.values.allSatisfy { $0.contains { $0.name == "user:memory_limit" } })
            let locks = try await client.stats("locks")
            #expect(locks.values.allSatisfy { $0.contains { $0.name == "max_locks" } })

            for index in 0..<20 { try await client.set("f\(index)", Self.bytes("x")) }
            try await client.flushAll()
            #expect(try await client.get((0..<20).map { "f\($0)" }).isEmpty)
            try await client.set("later", Self.bytes("x"))
            try await client.flushAll(delay: 0)
            #expect(try await client.get("later") == nil)
        }
    }

    @Test func unixSocketDaemon() async throws {
        let directory = NSTemporaryDirectory() + "dpc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try await DaemonProcess.startUnix(path: directory + "/d.sock", Fleet.regionArguments)
        defer { daemon.stop() }
        let client = try DogpileClient(servers: daemon.address)
        defer { client.shutdown() }
        try await client.set("over-unix", Self.bytes("yes"))
        #expect(try await client.get("over-unix")?.string == "yes")
        let region = try client.region("user")
        #expect(try await region.getOrCreate("u") { "made" } == "made")
    }
}
