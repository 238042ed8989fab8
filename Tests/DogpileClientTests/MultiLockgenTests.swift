import Testing
@testable import DogpileClient

/// `mlockgen` through the low-level client, against the real daemon.
@Suite(.serialized) struct MultiLockgenTests {
    @Test func answersEveryKeyInOrderAndItsLeasesShareAConnection() async throws {
        try await Fleet.with { fleet in
            let client = fleet.client
            try await client.set("user:h", Array("v".utf8))
            guard case .generate(let held) = try await client.lockgen("user:held", wait: .zero) else {
                Issue.record("expected GEN")
                return
            }
            let answers = try await client.mlockgen(["user:h", "user:g1", "user:held", "user:g2"])
            guard answers.count == 4, case .hit(let item) = answers[0], case .generate(let first) = answers[1],
                  case .miss = answers[2], case .generate(let second) = answers[3] else {
                Issue.record("unexpected answers: \(answers)")
                return
            }
            #expect(item.string == "v")
            #expect(first.key == "user:g1" && second.key == "user:g2" && first.staleItem == nil)
            // Both leases' setgen go on the connection that got them, pipelined.
            async let storedFirst = first.store(Array("1".utf8))
            async let storedSecond = second.store(Array("2".utf8))
            #expect(try await storedFirst)
            #expect(try await storedSecond)
            #expect(try await client.get("user:g1")?.string == "1")
            #expect(try await client.get("user:g2")?.string == "2")
            // The key answered MISS: a plain lockgen waits for its holder's setgen.
            async let waiter = client.lockgen("user:held", wait: .seconds(5))
            try await waitForWaiters(client, "generation_waiters", count: 1)
            #expect(try await held.store(Array("h".utf8)))
            guard case .hit(let stored) = try await waiter else {
                Issue.record("the waiter was not answered HIT")
                return
            }
            #expect(stored.string == "h")
            // A value stored by plain set has no measured regeneration time: never renewed early.
            guard case .hit = try await client.lockgen("user:h", wait: .zero, early: true) else {
                Issue.record("a plain-set value was granted early")
                return
            }
        }
    }

    /// More keys than one line carries: split into chunks, answered in order.
    @Test func manyKeysAreChunkedAndAnsweredInOrder() async throws {
        try await Fleet.with(2) { fleet in
            let keys = (0..<250).map { "user:many-\($0)" }
            let answers = try await fleet.client.mlockgen(keys)
            var leases: [GenerationLease] = []
            for answer in answers {
                if case .generate(let lease) = answer { leases.append(lease) }
            }
            #expect(leases.map(\.key) == keys)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for lease in leases { group.addTask { try await lease.store(Array(lease.key.utf8)) } }
                for try await stored in group { #expect(stored) }
            }
            let items = try await fleet.client.get(keys)
            #expect(keys.allSatisfy { items[$0]?.string == $0 })
            // Asked again: every key a HIT, in order.
            let again = try await fleet.client.mlockgen(keys)
            #expect(zip(keys, again).allSatisfy { key, answer in
                if case .hit(let item) = answer { return item.key == key }
                return false
            })
        }
    }
}
