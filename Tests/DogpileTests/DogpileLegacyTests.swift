import Dogpile
import Foundation
import Synchronization
import Testing

@Suite struct DogpileLegacyTests {
    @Test func firstAcquireCreatesLaterOnesReuse() throws {
        let dogpile = Dogpile(expiretime: 3600)
        let creations = Atomic(0)
        #expect(!dogpile.hasValue)
        #expect(dogpile.isExpired)
        #expect(dogpile.createdTime == -1)
        try dogpile.acquire { creations.add(1, ordering: .relaxed) }
        try dogpile.acquire { creations.add(1, ordering: .relaxed) }
        #expect(creations.load(ordering: .relaxed) == 1)
        #expect(dogpile.hasValue)
        #expect(!dogpile.isExpired)
    }

    @Test func acquireReturnsCreatedThenStoredValue() throws {
        let dogpile = Dogpile(expiretime: 3600)
        let resource = Mutex<String?>(nil)
        let created = try dogpile.acquire(
            creator: { resource.withLock { $0 = "built"; return "built" } },
            value: { resource.withLock { $0 } ?? "none" }
        )
        #expect(created == "built")
        resource.withLock { $0 = "changed in place" }
        let reused = try dogpile.acquire(creator: { "rebuilt" }, value: { resource.withLock { $0 } ?? "none" })
        #expect(reused == "changed in place")
    }

    @Test func expiredValueIsRecreated() throws {
        let dogpile = Dogpile(expiretime: 60)
        let creations = Atomic(0)
        try dogpile.acquire { creations.add(1, ordering: .relaxed) }
        dogpile.createdTime = 1  // pretend it was created in 1970
        #expect(dogpile.isExpired)
        try dogpile.acquire { creations.add(1, ordering: .relaxed) }
        #expect(creations.load(ordering: .relaxed) == 2)
        #expect(!dogpile.isExpired)
    }

    @Test func needRegenerationFromValueFunctionForcesCreation() throws {
        let dogpile = Dogpile(expiretime: 3600, initialized: true)
        let value = try dogpile.acquire(creator: { 7 }, value: { throw NeedRegeneration() })
        #expect(value == 7)
    }

    @Test func initializedSkipsFirstCreation() throws {
        let dogpile = Dogpile(expiretime: 3600, initialized: true)
        #expect(dogpile.hasValue)
        let value = try dogpile.acquire(creator: { "created" }, value: { "existing" })
        #expect(value == "existing")
    }

    @Test func nilExpiretimeNeverExpires() throws {
        let dogpile = Dogpile(expiretime: nil)
        try dogpile.acquire {}
        dogpile.createdTime = 1
        #expect(!dogpile.isExpired)
        let value = try dogpile.acquire(creator: { "created" }, value: { "existing" })
        #expect(value == "existing")
    }

    @Test func concurrentFirstAcquireCreatesOnce() throws {
        let dogpile = Dogpile(expiretime: 3600)
        let creations = Atomic(0)
        let finished = runOnThreads(10) { _ in
            try? dogpile.acquire {
                usleep(20_000)  // widen the window; the count is 1 whatever the interleaving
                creations.add(1, ordering: .sequentiallyConsistent)
            }
        }
        #expect(finished)
        #expect(creations.load(ordering: .sequentiallyConsistent) == 1)
    }
}
