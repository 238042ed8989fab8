import Foundation
import Testing
@testable import DogpileClient

/// lockgen/setgen/unlockgen, lock/rlock/unlock/renew, withLock, invalidate against the daemon.
@Suite(.serialized) struct LockVerbTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func generationLeaseCycle() async throws {
        try await Fleet.with { fleet in
            let client = fleet.client
            guard case .generate(let lease) = try await client.lockgen("user:g", wait: .zero) else {
                Issue.record("expected GEN")
                return
            }
            #expect(lease.staleItem == nil && lease.token > 0)
            // Someone else holds the lease: BUSY at once with wait 0.
            guard case .busy = try await client.lockgen("user:g", wait: .zero) else {
                Issue.record("expected BUSY")
                return
            }
            // A waiter is parked until the holder stores, then gets the value as a HIT.
            async let waiter = client.lockgen("user:g", wait: .seconds(5))
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await lease.store(Self.bytes("v1"), exptime: 0))
            guard case .hit(let item) = try await waiter else {
                Issue.record("expected the waiter's HIT")
                return
            }
            #expect(item.string == "v1" && item.cas != nil)
            guard case .hit = try await client.lockgen("user:g") else {
                Issue.record("expected HIT")
                return
            }

            // Soft invalidation: the value becomes a stale copy; one caller gets it with the lease,
            // the others get STALE at once.
            try await client.invalidate(region: "user", .soft)
            #expect(try await client.get("user:g") == nil)
            guard case .generate(let second) = try await client.lockgen("user:g", wait: .zero) else {
                Issue.record("expected GEN with the stale copy")
                return
            }
            #expect(second.staleItem?.string == "v1")
            #expect(second.token > lease.token)
            guard case .stale(let stale) = try await client.lockgen("user:g", wait: .seconds(5)) else {
                Issue.record("expected STALE")
                return
            }
            #expect(stale.string == "v1")
            // unlockgen hands the lease to the oldest waiter (none here), and a second one is NOT_OWNER.
            #expect(try await second.release())
            await expectError(.notOwner) { try await second.release() }
            #expect(try await client.unlockgen("user:g", token: second.token) == false)
            // Hard invalidation drops the stale copy too.
            try await client.invalidate(region: "user", .hard)
            guard case .generate(let third) = try await client.lockgen("user:g", wait: .zero) else {
                Issue.record("expected GEN after a hard invalidation")
                return
            }
            #expect(third.staleItem == nil)
            #expect(try await client.setgen("user:g", token: third.token, Self.bytes("v3")))
            #expect(try await client.get("user:g")?.string == "v3")
            await expectError(.regionNotDeclared) { try await client.invalidate(region: "nosuch", .hard) }
        }
    }

    @Test func unlockgenElectsTheOldestWaiter() async throws {
        try await Fleet.with { fleet in
            let client = fleet.client
            guard case .generate(let lease) = try await client.lockgen("k", wait: .zero) else {
                Issue.record("expected GEN")
                return
            }
            async let waiter = client.lockgen("k", wait: .seconds(5))
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await lease.release())
            guard case .generate(let next) = try await waiter else {
                Issue.record("the waiter was not elected")
                return
            }
            #expect(try await next.store(Self.bytes("w")))
        }
    }

    @Test func mutexes() async throws {
        try await Fleet.with { fleet in
            let client = fleet.client
            let reader1 = try await client.lock("doc", lease: .seconds(5), shared: true)
            let reader2 = try await client.lock("doc", lease: .seconds(5), shared: true)
            #expect(reader1.token != reader2.token && reader1.shared)
            await expectError(.busy) { try await client.lock("doc", lease: .seconds(5), wait: .milliseconds(50)) }
            #expect(try await reader1.renew(lease: .seconds(5)))
            #expect(try await client.renew("doc", token: reader2.token, lease: .seconds(5)))
            #expect(try await reader1.unlock())
            // The writer waits on the server and is woken when the last reader leaves.
            async let writer = client.lock("doc", lease: .seconds(5), wait: .seconds(5))
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await client.unlock("doc", token: reader2.token))
            let exclusive = try await writer
            #expect(exclusive.token > reader2.token)
            #expect(try await exclusive.unlock())
            await expectError(.notOwner) { try await exclusive.renew(lease: .seconds(1)) }
        }
    }

    @Test func withLockRenewsWhileTheBodyRuns() async throws {
        try await Fleet.with { fleet in
            let client = fleet.client
            let other = try fleet.direct(0)
            defer { other.shutdown() }
            let start = ContinuousClock.now
            let result = try await client.withLock("job", lease: .milliseconds(800)) { hold in
                // Three leases long: without renewals the hold would have ended twice over.
                try await Task.sleep(for: .milliseconds(2400))
                await expectError(.busy) { try await other.lock("job", wait: .zero) }
                return hold.token
            }
            #expect(result > 0)
            // Released at once afterwards.
            let after = try await other.lock("job", wait: .zero)
            #expect(after.token > result)
            #expect(try await after.unlock())
            print("withLock: 2400 ms body under an 800 ms lease, renewed: \(milliseconds(since: start)) ms")
        }
    }

    @Test func withLockReleasesWhenTheBodyThrows() async throws {
        struct Failure: Error {}
        try await Fleet.with { fleet in
            let client = fleet.client
            await #expect(throws: Failure.self) {
                try await client.withLock("job", lease: .seconds(30)) { _ in throw Failure() }
            }
            let again = try await client.lock("job", wait: .zero)
            #expect(try await again.unlock())
        }
    }

    @Test func aDroppedHoldEndsWithItsConnection() async throws {
        try await Fleet.with { fleet in
            let client = fleet.client
            do {
                _ = try await client.lock("dropped", lease: .seconds(30))
            }
            // Its connection closes on deinit; the daemon notices and frees the mutex.
            let hold = try await client.lock("dropped", lease: .seconds(5), wait: .seconds(2))
            #expect(try await hold.unlock())
        }
    }
}
