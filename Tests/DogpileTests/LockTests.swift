import Dogpile
import Foundation
import Synchronization
import Testing

@Suite struct LockTests {
    @Test func freshValueIsReturnedWithoutCreatorOrMutex() throws {
        let cell = Cell(("cached", epochNow()))
        let mutex = CountingMutex()
        let creations = Atomic(0)
        let lock = Lock<String>(
            mutex: mutex,
            creator: { creations.add(1, ordering: .relaxed); return cell.store("new") },
            valueAndCreatedAt: { try cell.read() },
            expiretime: 3600
        )
        #expect(try lock.value() == "cached")
        #expect(creations.load(ordering: .relaxed) == 0)
        #expect(mutex.totalAcquires == 0)
    }

    @Test func expiredValueOneCreatorOthersGetStaleWithoutBlocking() throws {
        let threads = 20
        let cell = Cell(("old", 1.0))  // created in 1970: long expired
        let creations = Atomic(0)
        let staleReturned = DispatchSemaphore(value: 0)
        let othersReturnedFirst = Atomic(false)
        let lock = Lock<String>(
            mutex: InProcessMutex(),
            creator: {
                creations.add(1, ordering: .sequentiallyConsistent)
                // The creator does not finish until every other thread has come back with
                // the stale value; had any of them blocked on the mutex, this would time out.
                othersReturnedFirst.store(wait(staleReturned, times: threads - 1), ordering: .sequentiallyConsistent)
                return cell.store("new")
            },
            valueAndCreatedAt: { try cell.read() },
            expiretime: 60
        )
        let results = Collector<String>()
        let finished = runOnThreads(threads) { _ in
            let value = (try? lock.value()) ?? "error"
            results.append(value)
            if value == "old" { staleReturned.signal() }
        }
        #expect(finished)
        #expect(creations.load(ordering: .sequentiallyConsistent) == 1)
        #expect(othersReturnedFirst.load(ordering: .sequentiallyConsistent) == true)
        #expect(results.all.filter { $0 == "old" }.count == threads - 1)
        #expect(results.all.filter { $0 == "new" }.count == 1)
    }

    @Test func missingValueOneCreationAndEveryoneGetsIt() throws {
        let threads = 20
        let cell = Cell<String>()
        let mutex = CountingMutex()
        let creations = Atomic(0)
        let othersWaited = Atomic(false)
        let lock = Lock<String>(
            mutex: mutex,
            creator: {
                creations.add(1, ordering: .sequentiallyConsistent)
                // Hold the lease until all the other threads are queued on the mutex.
                othersWaited.store(
                    wait(mutex.blockingAcquireStarted, times: threads - 1), ordering: .sequentiallyConsistent)
                return cell.store("new")
            },
            valueAndCreatedAt: { try cell.read() },
            expiretime: 60
        )
        let results = Collector<String>()
        let finished = runOnThreads(threads) { _ in results.append((try? lock.value()) ?? "error") }
        #expect(finished)
        #expect(othersWaited.load(ordering: .sequentiallyConsistent) == true)
        #expect(creations.load(ordering: .sequentiallyConsistent) == 1)
        #expect(results.all == Array(repeating: "new", count: threads))
        #expect(!mutex.inner.isHeld)
    }

    @Test func needRegenerationCreatesTheValue() throws {
        let cell = Cell<Int>()
        let mutex = InProcessMutex()
        let lock = Lock<Int>(
            mutex: mutex, creator: { cell.store(42) }, valueAndCreatedAt: { try cell.read() }, expiretime: 60)
        #expect(try lock.value() == 42)
        #expect(try cell.read().value == 42)
        #expect(!mutex.isHeld)
    }

    @Test func createdAtMinusOneForcesRegeneration() throws {
        let cell = Cell(("old", -1.0))
        let creations = Atomic(0)
        let lock = Lock<String>(
            mutex: InProcessMutex(),
            creator: { creations.add(1, ordering: .relaxed); return cell.store("new") },
            valueAndCreatedAt: { try cell.read() },
            expiretime: nil
        )
        #expect(try lock.value() == "new")
        #expect(try lock.value() == "new")
        #expect(creations.load(ordering: .relaxed) == 1)
    }

    @Test func nilExpiretimeNeverRegenerates() throws {
        let cell = Cell(("ancient", 1.0))
        let mutex = CountingMutex()
        let lock = Lock<String>(
            mutex: mutex, creator: { cell.store("new") }, valueAndCreatedAt: { try cell.read() }, expiretime: nil)
        #expect(try lock.value() == "ancient")
        #expect(mutex.totalAcquires == 0)
    }

    @Test func staleValueIsServedWhileAnotherHoldsTheMutex() throws {
        let cell = Cell(("old", 1.0))
        let mutex = InProcessMutex()
        let lock = Lock<String>(
            mutex: mutex, creator: { cell.store("new") }, valueAndCreatedAt: { try cell.read() }, expiretime: 60)
        #expect(mutex.acquire(blocking: false))
        #expect(try lock.value() == "old")
        mutex.release()
        #expect(try lock.value() == "new")
    }

    @Test func asyncCreatorTakesOverAndReleasesTheMutex() throws {
        let cell = Cell(("old", 1.0))
        let mutex = InProcessMutex()
        let handoffs = Atomic(0)
        let mutexHeldAtHandoff = Atomic(false)
        let go = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let lock = Lock<String>(
            mutex: mutex,
            creator: { Issue.record("the synchronous creator must not run"); return cell.store("sync") },
            valueAndCreatedAt: { try cell.read() },
            expiretime: 60,
            asyncCreator: { handedMutex in
                handoffs.add(1, ordering: .sequentiallyConsistent)
                mutexHeldAtHandoff.store(mutex.isHeld && handedMutex === mutex, ordering: .sequentiallyConsistent)
                startThread {
                    _ = go.wait(timeout: .now() + 10)
                    cell.store("new")
                    handedMutex.release()  // from a thread that never acquired it
                    done.signal()
                }
            }
        )
        #expect(try lock.value() == "old")
        #expect(mutex.isHeld)
        #expect(try lock.value() == "old")  // background creation still running: stale, no wait
        #expect(handoffs.load(ordering: .sequentiallyConsistent) == 1)
        #expect(mutexHeldAtHandoff.load(ordering: .sequentiallyConsistent) == true)
        go.signal()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(!mutex.isHeld)
        #expect(try lock.value() == "new")
    }

    @Test func asyncCreatorIsNotUsedWhenThereIsNoValue() throws {
        let cell = Cell<String>()
        let mutex = InProcessMutex()
        let lock = Lock<String>(
            mutex: mutex,
            creator: { cell.store("sync") },
            valueAndCreatedAt: { try cell.read() },
            expiretime: 60,
            asyncCreator: { _ in Issue.record("nothing to serve meanwhile: must create synchronously") }
        )
        #expect(try lock.value() == "sync")
        #expect(!mutex.isHeld)
    }

    @Test func creatorErrorPropagatesAndReleasesTheMutex() {
        let mutex = InProcessMutex()
        let lock = Lock<Int>(
            mutex: mutex, creator: { throw Boom() }, valueAndCreatedAt: { throw NeedRegeneration() }, expiretime: 60)
        #expect(throws: Boom.self) { try lock.value() }
        #expect(!mutex.isHeld)
    }

    @Test func valueFunctionErrorPropagates() {
        let mutex = CountingMutex()
        let lock = Lock<Int>(
            mutex: mutex, creator: { (1, epochNow()) }, valueAndCreatedAt: { throw Boom() }, expiretime: 60)
        #expect(throws: Boom.self) { try lock.value() }
        #expect(mutex.totalAcquires == 0)
    }
}
