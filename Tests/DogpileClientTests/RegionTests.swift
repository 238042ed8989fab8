import Foundation
import Testing
@testable import DogpileClient

/// The Region API and its lockgen loop against the real daemon.
@Suite(.serialized) struct RegionTests {
    struct User: Codable, Equatable, Sendable {
        var id: Int
        var name: String
    }

    @Test func stampedeInProcessRunsTheCreatorOnce() async throws {
        try await Fleet.with(3) { fleet in
            let region = try fleet.client.region("user", expiration: .seconds(300))
            let calls = CallCounter()
            let tasks = 200
            let start = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: (GetOrCreateResult<User>, Double).self) { group in
                for _ in 0..<tasks {
                    group.addTask {
                        let began = ContinuousClock.now
                        let result = try await region.getOrCreateResult("42", as: User.self) {
                            _ = calls.increment()
                            try await Task.sleep(for: .milliseconds(200))
                            return User(id: 42, name: "Ada")
                        }
                        return (result, milliseconds(since: began))
                    }
                }
                var all: [(GetOrCreateResult<User>, Double)] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(calls.value == 1)
            #expect(results.count == tasks)
            #expect(results.allSatisfy { $0.0.value == User(id: 42, name: "Ada") })
            #expect(results.filter { $0.0.source == .created }.count == 1)
            // 200 callers, each parked on a connection of its own, through a pool of 32.
            let open = fleet.client.daemons.map(\.pool.openCount)
            #expect(open.allSatisfy { $0 <= fleet.client.configuration.maximumConnectionsPerDaemon }, "\(open)")
            #expect(open.max() ?? 0 > 1)
            let latencies = results.map(\.1).sorted()
            print("stampede: \(tasks) tasks, 200 ms creator, \(calls.value) creator call(s); latency p50 \(latencies[tasks / 2]) ms, p99 \(latencies[tasks * 99 / 100]) ms, total \(milliseconds(since: start)) ms")
            // What was stored is the shared format, flags 0, under user:42.
            let item = try #require(try await fleet.client.get("user:42"))
            #expect(item.flags == 0)
            #expect(item.string.hasSuffix(#"|{"id": 42, "name": "Ada"}"#))
            #expect(try await region.getOrCreateResult("42", as: User.self) { User(id: 0, name: "never") }.source == .hit)
        }
    }

    /// Early recompute off: the elected caller runs the creator (the others get the stale copy).
    /// On: the elected caller is answered with the stale copy too, and regenerates in the background.
    @Test(arguments: [false, true])
    func staleCopiesAreServedWhileOneCallerRegenerates(early: Bool) async throws {
        try await Fleet.with { fleet in
            var configured = try fleet.client.region("user", expiration: .seconds(300))
            configured.earlyRecompute = early
            let region = configured
            try await region.set("s", "old")
            try await region.invalidate(.soft)
            let calls = CallCounter()
            let start = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: (GetOrCreateResult<String>, Double).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let began = ContinuousClock.now
                        let result = try await region.getOrCreateResult("s", as: String.self) {
                            _ = calls.increment()
                            try await Task.sleep(for: .milliseconds(300))
                            return "new"
                        }
                        return (result, milliseconds(since: began))
                    }
                }
                var all: [(GetOrCreateResult<String>, Double)] = []
                for try await result in group { all.append(result) }
                return all
            }
            let stale = results.filter { $0.0.source == .stale }
            // Everyone who asked while the creator ran got the stale copy at once (a caller
            // scheduled after the setgen would get the new value as a HIT).
            #expect(stale.count >= 1)
            #expect(stale.allSatisfy { $0.0.value == "old" })
            #expect(results.filter { $0.0.source == .hit }.allSatisfy { $0.0.value == "new" })
            #expect(stale.count + results.filter { $0.0.source == .hit }.count == 19)
            if early {
                #expect(results.filter { $0.0.source == .servedWhileRegenerating }.map(\.0.value) == ["old"])
                #expect(!results.contains { $0.0.source == .created })
                // The background regeneration stores the new value.
                let deadline = ContinuousClock.now + .seconds(5)
                while try await region.get("s", as: String.self) != "new" && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
            } else {
                #expect(results.filter { $0.0.source == .created }.map(\.0.value) == ["new"])
            }
            #expect(calls.value == 1)
            let slowest = results.map(\.1).max() ?? 0
            print("stale path (early recompute \(early ? "on" : "off")): \(stale.count) STALE, slowest caller \(slowest) ms (creator 300 ms); total \(milliseconds(since: start)) ms")
            #expect(try await region.get("s", as: String.self) == "new")
        }
    }

    @Test func aThrowingCreatorReleasesTheLeaseForTheNextWaiter() async throws {
        struct Failure: Error {}
        try await Fleet.with { fleet in
            let region = try fleet.client.region("user")
            _ = try await region.get("warm-up", as: String.self)  // region check and a connection first
            let calls = CallCounter()
            let start = ContinuousClock.now
            async let failing: String = region.getOrCreate("t") {
                _ = calls.increment()
                try await Task.sleep(for: .milliseconds(200))
                throw Failure()
            }
            // The second caller asks once the first holds the lease and runs its creator.
            while calls.value == 0 { try await Task.sleep(for: .milliseconds(5)) }
            async let waiting = region.getOrCreateResult("t", as: String.self) {
                _ = calls.increment()
                return "second"
            }
            do {
                _ = try await failing
                Issue.record("the failing creator's error was not rethrown")
            } catch is Failure {
            }
            let result = try await waiting
            #expect(result.source == .created && result.value == "second")
            #expect(calls.value == 2)
            print("creator throws: waiter elected after unlockgen, \(milliseconds(since: start)) ms")
        }
    }

    @Test func busyUntilTheDeadlineThenThrows() async throws {
        try await Fleet.with { fleet in
            var region = try fleet.client.region("user")
            region.wait = .milliseconds(100)
            region.busyDeadline = .milliseconds(400)
            // Another holder takes the lease and never stores.
            guard case .generate(let lease) = try await fleet.client.lockgen(region.cacheKey("b"), wait: .zero) else {
                Issue.record("expected GEN")
                return
            }
            let calls = CallCounter()
            let start = ContinuousClock.now
            let error = await expectError(.busy) {
                try await region.getOrCreate("b") { _ = calls.increment(); return 1 }
            }
            let elapsed = milliseconds(since: start)
            #expect(calls.value == 0)
            #expect(elapsed >= 400)
            #expect(error?.key == "user:b")
            print("BUSY: thrown after \(elapsed) ms (deadline 400 ms, wait 100 ms)")
            #expect(try await lease.release())
        }
    }

    @Test func aCreatorThatOutlivesItsLeaseDoesNotOverwrite() async throws {
        try await Fleet.with { fleet in
            var slow = try fleet.client.region("user")
            slow.lease = .milliseconds(200)
            _ = try await slow.get("warm-up", as: String.self)
            async let first = slow.getOrCreateResult("o", as: String.self) {
                try await Task.sleep(for: .milliseconds(700))
                return "late"
            }
            // After the first lease ends, a second caller is elected and stores its value.
            try await Task.sleep(for: .milliseconds(400))
            let second = try await slow.getOrCreateResult("o", as: String.self) { "fresh" }
            #expect(second.source == .created && second.value == "fresh")
            let late = try await first
            #expect(late.value == "late")
            #expect(late.source == .createdNotStored(reason: "NOT_OWNER"))
            #expect(try await slow.get("o", as: String.self) == "fresh")
        }
    }

    @Test func getOrCreateMultiCreatesTheMissingKeysInOneCall() async throws {
        try await Fleet.with(2) { fleet in
            let region = try fleet.client.region("user", expiration: .seconds(60))
            try await region.set("m2", 20)
            let calls = CallCounter()
            let requested = MutexBox<[[String]]>([])
            let values = try await region.getOrCreateMulti(["m1", "m2", "m3", "m1"], as: Int.self) { keys in
                _ = calls.increment()
                requested.mutate { $0.append(keys) }
                return keys.map { Int($0.dropFirst())! * 10 }
            }
            #expect(values == [10, 20, 30, 10])
            #expect(calls.value == 1)
            #expect(requested.value.map { Set($0) } == [Set(["m1", "m3"])])
            // All present now: no creator call.
            #expect(try await region.getOrCreateMulti(["m3", "m1"], as: Int.self) { _ in Issue.record("creator ran"); return [] } == [30, 10])
        }
    }

    /// Two callers whose key sets overlap, at once: neither waits while holding leases, so both
    /// finish, and every key is created exactly once between them.
    @Test func overlappingMultiCallersDoNotDeadlock() async throws {
        try await Fleet.with(2) { fleet in
            var region = try fleet.client.region("user", expiration: .seconds(60))
            region.busyDeadline = .seconds(20)
            let created = MutexBox<[String]>([])
            let start = ContinuousClock.now
            async let first = region.getOrCreateMulti(["a", "b", "c", "d"], as: String.self) { keys in
                created.mutate { $0 += keys }
                try await Task.sleep(for: .milliseconds(200))
                return keys.map { "first-\($0)" }
            }
            async let second = region.getOrCreateMulti(["d", "c", "e", "a"], as: String.self) { keys in
                created.mutate { $0 += keys }
                try await Task.sleep(for: .milliseconds(200))
                return keys.map { "second-\($0)" }
            }
            let (one, two) = try await (first, second)
            let elapsed = milliseconds(since: start)
            #expect(created.value.sorted() == ["a", "b", "c", "d", "e"])
            // Both callers see the same value for the keys they share.
            #expect(one[0] == two[3] && one[2] == two[1] && one[3] == two[0])
            print("overlapping getOrCreateMulti: both done in \(elapsed) ms (200 ms creators)")
        }
    }

    @Test func cachedFunction() async throws {
        try await Fleet.with { fleet in
            let region = try fleet.client.region("fn", expiration: .seconds(60))
            let calls = CallCounter()
            let square = region.cached(namespace: "square") { (n: Int) async throws -> Int in
                _ = calls.increment()
                return n * n
            }
            #expect(square.key(for: 7) == "square|7")
            #expect(region.cacheKey(square.key(for: 7)) == "fn:square|7")
            #expect(try await square(7) == 49)
            #expect(try await square(7) == 49)
            #expect(calls.value == 1)
            #expect(try await square.cachedValue(for: 7) == 49)
            try await square.invalidate(7)
            #expect(try await square.cachedValue(for: 7) == nil)
            #expect(try await square(7) == 49)
            #expect(calls.value == 2)
            try await square.set(50, for: 7)
            #expect(try await square(7) == 50)
            #expect(try await square.refresh(7) == 49)
            #expect(try await square(7) == 49)
            // Two arguments, keyed the way dogpile joins them.
            let add = region.cached(namespace: "add", key: { (pair: (Int, Int)) in "\(pair.0) \(pair.1)" }) { (pair: (Int, Int)) in pair.0 + pair.1 }
            #expect(add.key(for: (1, 2)) == "add|1 2")
            #expect(region.cacheKey(add.key(for: (1, 2))) == KeyMangler.cacheKey(region: "fn", key: "add|1 2"))
            #expect(try await add((1, 2)) == 3)
        }
    }

    @Test func regionsAreCheckedOnEveryDaemon() async throws {
        try await Fleet.with(2) { fleet in
            try await fleet.client.checkRegions(["user", "fn", "default"])
            let error = await expectError(.regionNotDeclared) { try await fleet.client.checkRegions(["orders"]) }
            #expect(error?.message.contains("region 'orders' is not declared on daemon 127.0.0.1:") == true)
            #expect(error?.message.contains("--region orders:memory=") == true)
            // First use of an undeclared region fails the same way.
            let orders = try fleet.client.region("orders")
            await expectError(.regionNotDeclared) { try await orders.getOrCreate("1") { 1 } }
        }
    }

    @Test func plainGetSetDeleteAndHardInvalidation() async throws {
        try await Fleet.with(2) { fleet in
            let region = try fleet.client.region("user", expiration: .seconds(60))
            try await region.set("p", User(id: 1, name: "Grace"))
            #expect(try await region.get("p", as: User.self) == User(id: 1, name: "Grace"))
            #expect(try await region.get("absent", as: User.self) == nil)
            let spaced = "a key with spaces"
            try await region.set(spaced, "mangled")
            #expect(try await fleet.client.get(KeyMangler.cacheKey(region: "user", key: spaced)) != nil)
            #expect(try await region.get(spaced, as: String.self) == "mangled")
            #expect(try await region.delete("p"))
            #expect(try await region.get("p", as: User.self) == nil)
            // A value that is not the shared format is no value for get.
            try await fleet.client.set("user:raw", Array("not the format".utf8))
            #expect(try await region.get("raw", as: String.self) == nil)
            // ...and getOrCreate replaces it.
            #expect(try await region.getOrCreate("raw") { "made" } == "made")
            try await region.invalidate(.hard)
            #expect(try await region.get(spaced, as: String.self) == nil)
        }
    }
}

/// A value shared between tasks in a test.
final class MutexBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    func mutate(_ body: (inout Value) -> Void) { lock.lock(); body(&stored); lock.unlock() }
    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }
}
