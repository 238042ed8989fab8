import Foundation
import Testing
@testable import DogpileClient

/// Early recompute (`lockgen ... early`) through the Region API, against the real daemon.
/// Timings are printed, never asserted: the assertions are on what came back.
@Suite(.serialized) struct EarlyRecomputeTests {
    /// Versions handed out by a creator, and how many creators run at once.
    final class Regenerations: @unchecked Sendable {
        private let lock = NSLock()
        private var made = 0
        private var running = 0
        private(set) var maximumRunning = 0
        func begin() -> Int {
            lock.lock(); defer { lock.unlock() }
            made += 1
            running += 1
            maximumRunning = max(maximumRunning, running)
            return made
        }
        func end() { lock.lock(); running -= 1; lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return made }
        var inFlight: Int { lock.lock(); defer { lock.unlock() }; return running }
    }

    static func stat(_ client: DogpileClient, _ name: String) async throws -> Int {
        try await client.stats().values.flatMap { $0 }.filter { $0.name == name }.compactMap { Int($0.value) }.reduce(0, +)
    }

    /// A key regenerated once (so the daemon has its Δ), then 20 tasks calling getOrCreate in a
    /// loop across several expiries: each regeneration runs in the background of the one caller
    /// the daemon chose, nobody runs the creator in the foreground, and each version is replaced
    /// exactly once.
    @Test func nobodyWaitsForARegenerationAroundExpiry() async throws {
        try await Fleet.with { fleet in
            let region = try fleet.client.region("user", expiration: .seconds(2))
            let regenerations = Regenerations()
            let creator: @Sendable () async throws -> Int = {
                let version = regenerations.begin()
                defer { regenerations.end() }
                try await Task.sleep(for: .milliseconds(100))
                return version
            }
            let first = try await region.getOrCreateResult("early", as: Int.self, creator: creator)
            #expect(first.source == .created && first.value == 1)

            let tasks = 20
            let runFor: Duration = .milliseconds(5_500)
            let start = ContinuousClock.now
            let perTask = try await withThrowingTaskGroup(of: [(GetOrCreateResult<Int>, Double)].self) { group in
                for _ in 0..<tasks {
                    group.addTask {
                        var seen: [(GetOrCreateResult<Int>, Double)] = []
                        while ContinuousClock.now - start < runFor {
                            let began = ContinuousClock.now
                            let result = try await region.getOrCreateResult("early", as: Int.self, creator: creator)
                            seen.append((result, milliseconds(since: began)))
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        return seen
                    }
                }
                var all: [[(GetOrCreateResult<Int>, Double)]] = []
                for try await seen in group { all.append(seen) }
                return all
            }
            // Let the last background regeneration store its value.
            let settle = ContinuousClock.now
            while regenerations.inFlight > 0 && ContinuousClock.now - settle < .seconds(5) {
                try await Task.sleep(for: .milliseconds(10))
            }
            let results = perTask.flatMap { $0 }
            let sources = results.map(\.0.source)
            let served = results.filter { $0.0.source == .servedWhileRegenerating }
            let made = regenerations.count - 1  // past the first, foreground one

            // No caller ran the creator itself: every answer was a value at hand.
            #expect(sources.allSatisfy { $0 == .hit || $0 == .stale || $0 == .servedWhileRegenerating }, "\(Set(sources.map { "\($0)" }))")
            // Several expiries passed, and each regeneration was started by exactly one caller,
            // who was answered with the version it replaces: one regeneration per version.
            #expect(made >= 1)
            #expect(served.count == made)
            #expect(served.map(\.0.value).sorted() == Array(1..<regenerations.count))
            #expect(regenerations.maximumRunning == 1)
            // Each caller saw versions only move forward, and the last one is what is stored.
            for seen in perTask {
                let values = seen.map(\.0.value)
                #expect(values == values.sorted())
            }
            #expect(try await region.get("early", as: Int.self) == regenerations.count)
            let earlyGrants = try await Self.stat(fleet.client, "lockgen_early")
            let beatExpiry = try await Self.stat(fleet.client, "lockgen_early_beat_expiry")
            #expect(earlyGrants >= 1)

            let regionStats = try await fleet.client.stats("regions").values.flatMap { $0 }
                .filter { $0.name.hasPrefix("user:regeneration") }.map { "\($0.name)=\($0.value)" }
            let latencies = results.map(\.1).sorted()
            let stale = sources.filter { $0 == .stale }.count
            print("early recompute: \(tasks) tasks, \(results.count) calls over \(milliseconds(since: start)) ms, 2 s expiry, 100 ms creator: "
                  + "\(made) background regeneration(s), \(earlyGrants) early grant(s), \(beatExpiry) beat expiry, \(stale) STALE "
                  + "(\(regionStats.joined(separator: ", "))); "
                  + "latency p50 \(latencies[latencies.count / 2]) ms, p99 \(latencies[latencies.count * 99 / 100]) ms, max \(latencies.last!) ms")
        }
    }

    /// A background creator that throws is never seen by the caller (it had its value already);
    /// the lease is given back with unlockgen, so the next caller is elected at once.
    @Test func aFailingBackgroundCreatorGivesTheLeaseBack() async throws {
        struct Failure: Error {}
        try await Fleet.with { fleet in
            let region = try fleet.client.region("user", expiration: .seconds(60))
            try await region.set("fails", "old")
            try await region.invalidate(.soft)
            let attempts = CallCounter()
            let failed = CallCounter()
            let first = try await region.getOrCreateResult("fails", as: String.self) {
                _ = attempts.increment()
                defer { _ = failed.increment() }
                throw Failure()
            }
            #expect(first.source == .servedWhileRegenerating && first.value == "old")
            // Once the failure gave the lease back (STALE until then), the next caller is elected.
            let deadline = ContinuousClock.now + .seconds(5)
            var second: GetOrCreateResult<String>
            repeat {
                second = try await region.getOrCreateResult("fails", as: String.self) {
                    _ = attempts.increment()
                    return "new"
                }
            } while second.source == .stale && ContinuousClock.now < deadline
            #expect(failed.value == 1)
            #expect(second.source == .servedWhileRegenerating && second.value == "old")
            while try await region.get("fails", as: String.self) != "new" && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try await region.get("fails", as: String.self) == "new")
            #expect(attempts.value == 2)
        }
    }

    /// Off, a lease with a stale copy runs the creator in the caller, as before.
    @Test func earlyRecomputeOffRunsTheCreatorInTheCaller() async throws {
        try await Fleet.with { fleet in
            var region = try fleet.client.region("user", expiration: .seconds(60))
            region.earlyRecompute = false
            try await region.set("off", "old")
            try await region.invalidate(.soft)
            let result = try await region.getOrCreateResult("off", as: String.self) { "new" }
            #expect(result.source == .created && result.value == "new")
            #expect(try await region.get("off", as: String.self) == "new")
        }
    }
}
