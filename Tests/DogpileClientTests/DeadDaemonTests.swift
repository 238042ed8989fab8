import Foundation
import Testing
@testable import DogpileClient

/// A daemon that is down: its keys do not move (by default), reads miss, writes name it, and
/// getOrCreate runs the creator without caching; with rehashDead its keys move.
@Suite(.serialized) struct DeadDaemonTests {
    /// A live daemon and a closed port, and keys that the ring gives to each.
    static func setup(rehash: Bool, _ body: (DogpileClient, _ liveKey: String, _ deadKey: String, _ deadName: String) async throws -> Void) async throws {
        let live = try await DaemonProcess.start(Fleet.regionArguments)
        defer { live.stop() }
        let closedPort = try DaemonProcess.freePort()
        var configuration = DogpileClient.Configuration(servers: [
            ServerAddress(host: "127.0.0.1", port: live.port), ServerAddress(host: "127.0.0.1", port: closedPort),
        ])
        configuration.rehashDead = rehash
        configuration.retryDeadAfter = .seconds(30)
        let client = try DogpileClient(configuration: configuration)
        defer { client.shutdown() }
        let keys = (0..<100).map { "k\($0)" }
        let liveKey = try #require(keys.first { client.ring.server(for: "user:\($0)")?.port == live.port })
        let deadKey = try #require(keys.first { client.ring.server(for: "user:\($0)")?.port == closedPort })
        try await body(client, liveKey, deadKey, "127.0.0.1:\(closedPort)")
    }

    @Test func keysDoNotMoveByDefault() async throws {
        try await Self.setup(rehash: false) { client, liveKey, deadKey, deadName in
            let region = try client.region("user", expiration: .seconds(60))
            // The first failure (here: the region check's `stats regions`) is a connection failure;
            // it marks the daemon dead, and requests to it then fail at once, naming it.
            do {
                try await region.set(deadKey, 1)
                Issue.record("a write to a dead daemon succeeded")
            } catch let error as DogpileClientError {
                #expect(error.code == .connectionFailed || error.code == .daemonDead)
                #expect(error.daemon == deadName)
            }
            let second = await expectError(.daemonDead) { try await region.set(deadKey, 1) }
            #expect(second?.daemon == deadName)
            #expect(second?.description.contains(deadName) == true)
            // Reads miss, including a multi-get that spans both daemons.
            try await region.set(liveKey, 2)
            #expect(try await region.get(deadKey, as: Int.self) == nil)
            let both = try await client.get(["user:\(liveKey)", "user:\(deadKey)"])
            #expect(Set(both.keys) == ["user:\(liveKey)"])
            // getOrCreate runs the creator every time, without caching, and says so.
            let calls = CallCounter()
            for _ in 0..<2 {
                let result = try await region.getOrCreateResult(deadKey, as: Int.self) { calls.increment() }
                #expect(result.source == .createdUncached(daemon: deadName))
            }
            #expect(calls.value == 2)
            // The live daemon's keys work as usual; the dead key did not move there.
            #expect(try await region.getOrCreateResult(liveKey, as: Int.self) { 0 }.source == .hit)
            #expect(client.server(for: "user:\(deadKey)").name == deadName)
            // Invalidation skips the dead daemon and says which.
            #expect(try await region.invalidate(.soft).map(\.name) == [deadName])
        }
    }

    @Test func rehashDeadMovesTheKeys() async throws {
        try await Self.setup(rehash: true) { client, liveKey, deadKey, deadName in
            let region = try client.region("user", expiration: .seconds(60))
            // Until a request finds the daemon dead, its keys stay on it.
            #expect(client.server(for: "user:\(deadKey)").name == deadName)
            try await client.checkRegions(["user"])  // fails to reach it: marked dead
            #expect(client.server(for: "user:\(deadKey)").name != deadName)
            let calls = CallCounter()
            #expect(try await region.getOrCreateResult(deadKey, as: Int.self) { calls.increment() }.source == .created)
            #expect(try await region.getOrCreateResult(deadKey, as: Int.self) { calls.increment() }.source == .hit)
            #expect(calls.value == 1)
            try await region.set(liveKey, 5)
            #expect(try await region.get(liveKey, as: Int.self) == 5)
        }
    }
}
