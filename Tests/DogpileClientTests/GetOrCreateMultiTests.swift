import Dogpile
import Foundation
import Testing
@testable import DogpileClient

/// getOrCreateMulti over `mlockgen`, against the real daemon. Timings are printed, never asserted.
@Suite(.serialized) struct GetOrCreateMultiTests {
    /// 50 keys, a random half present, 20 concurrent getOrCreateMulti callers (each asking in its
    /// own order): every missing key is created exactly once, and every caller gets every value,
    /// in the order it asked.
    @Test func multiCallersCreateEachMissingKeyOnce() async throws {
        try await Fleet.with(2) { fleet in
            var configured = try fleet.client.region("user", expiration: .seconds(60))
            configured.busyDeadline = .seconds(20)
            let region = configured
            var generator = SplitMix64(seed: 2026)
            let keys = (0..<50).map { "multi-\($0)" }
            let present = Set(keys.shuffled(using: &generator).prefix(25))
            for key in present { try await region.set(key, "pre-\(key)") }
            let created = MutexBox<[String]>([])
            let orders = (0..<20).map { _ in keys.shuffled(using: &generator) }
            let start = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: ([String], [String], Double).self) { group in
                for order in orders {
                    group.addTask {
                        let began = ContinuousClock.now
                        let values = try await region.getOrCreateMulti(order, as: String.self) { missing in
                            created.mutate { $0 += missing }
                            try await Task.sleep(for: .milliseconds(50))
                            return missing.map { "made-\($0)" }
                        }
                        return (order, values, milliseconds(since: began))
                    }
                }
                var all: [([String], [String], Double)] = []
                for try await result in group { all.append(result) }
                return all
            }
            let missing = keys.filter { !present.contains($0) }
            #expect(created.value.sorted() == missing.sorted())
            for (order, values, _) in results {
                #expect(values == order.map { present.contains($0) ? "pre-\($0)" : "made-\($0)" })
            }
            let latencies = results.map(\.2).sorted()
            print("getOrCreateMulti: 20 callers x 50 keys (25 missing, 2 daemons, 50 ms creator): \(created.value.count) keys created; "
                  + "latency min \(latencies.first!) ms, p50 \(latencies[latencies.count / 2]) ms, max \(latencies.last!) ms; total \(milliseconds(since: start)) ms")
        }
    }

    /// Keys whose lease comes with a stale copy are answered with it at once and regenerated in
    /// the background, in one creator call.
    @Test func multiServesStaleCopiesAndRegeneratesInTheBackground() async throws {
        try await Fleet.with(2) { fleet in
            let region = try fleet.client.region("user", expiration: .seconds(60))
            let keys = ["s1", "s2", "s3", "s4"]
            for key in keys { try await region.set(key, "old-\(key)") }
            try await region.invalidate(.soft)
            let calls = MutexBox<[[String]]>([])
            let values = try await region.getOrCreateMulti(keys, as: String.self) { keys in
                calls.mutate { $0.append(keys) }
                try await Task.sleep(for: .milliseconds(200))
                return keys.map { "new-\($0)" }
            }
            #expect(values == keys.map { "old-\($0)" })
            let deadline = ContinuousClock.now + .seconds(5)
            var stored: [String?] = []
            repeat {
                try await Task.sleep(for: .milliseconds(20))
                stored = []
                for key in keys { stored.append(try await region.get(key, as: String.self)) }
            } while stored != keys.map { "new-\($0)" } && ContinuousClock.now < deadline
            #expect(stored == keys.map { "new-\($0)" })
            #expect(calls.value.count == 1)
            #expect(Set(calls.value.first ?? []) == Set(keys))
        }
    }
}
