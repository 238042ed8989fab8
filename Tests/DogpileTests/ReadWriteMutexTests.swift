@testable import Dogpile
import Foundation
import Testing

@Suite struct ReadWriteMutexTests {
    @Test func readersShare() {
        let rw = ReadWriteMutex()
        let otherHolds = DispatchSemaphore(value: 0)
        let letGo = DispatchSemaphore(value: 0)
        let otherDone = startThread {
            rw.acquireRead()
            otherHolds.signal()
            _ = letGo.wait(timeout: .now() + 10)
            rw.releaseRead()
        }
        #expect(otherHolds.wait(timeout: .now() + 10) == .success)
        #expect(rw.acquireRead(wait: false))  // a second reader while the first holds
        #expect(rw.snapshot.readers == 2)
        #expect(!rw.acquireWrite(wait: false))
        rw.releaseRead()
        letGo.signal()
        #expect(otherDone.wait(timeout: .now() + 10) == .success)
        #expect(rw.snapshot.readers == 0)
        #expect(rw.acquireWrite(wait: false))
        rw.releaseWrite()
    }

    @Test func writerIsExclusive() {
        let rw = ReadWriteMutex()
        rw.acquireWrite()
        let results = Collector<(String, Bool)>()
        let probe = startThread {
            results.append(("read", rw.acquireRead(wait: false)))
            results.append(("write", rw.acquireWrite(wait: false)))
        }
        #expect(probe.wait(timeout: .now() + 10) == .success)
        #expect(results.all.map(\.1) == [false, false])
        #expect(!rw.acquireRead(wait: false))
        rw.releaseWrite()
        #expect(rw.acquireRead(wait: false))
        rw.releaseRead()
    }

    @Test func blockingWriterWaitsForReaders() {
        let rw = ReadWriteMutex()
        rw.acquireRead()
        let events = Collector<String>()
        let writerDone = startThread {
            rw.acquireWrite()
            events.append("writer in")
            rw.releaseWrite()
        }
        #expect(waitUntil { rw.snapshot.writersWaiting == 1 })
        #expect(events.all.isEmpty)
        events.append("reader out")
        rw.releaseRead()
        #expect(writerDone.wait(timeout: .now() + 10) == .success)
        #expect(events.all == ["reader out", "writer in"])
    }

    @Test func waitingWriterBlocksLaterReaders() {
        let rw = ReadWriteMutex()
        rw.acquireRead()  // an early reader holds the lock
        let events = Collector<String>()
        let writerMayLeave = DispatchSemaphore(value: 0)
        let writerDone = startThread {
            rw.acquireWrite()
            events.append("writer in")
            _ = writerMayLeave.wait(timeout: .now() + 10)
            events.append("writer out")
            rw.releaseWrite()
        }
        #expect(waitUntil { rw.snapshot.writersWaiting == 1 })

        // A reader arriving now must queue behind the writer, though only readers hold the lock.
        #expect(!rw.acquireRead(wait: false))
        let readerDone = startThread {
            rw.acquireRead()
            events.append("late reader in")
            rw.releaseRead()
        }
        #expect(waitUntil { rw.snapshot.readersWaiting == 1 })
        #expect(events.all.isEmpty)

        rw.releaseRead()  // the early reader leaves: the writer goes first
        #expect(waitUntil { events.all == ["writer in"] })
        #expect(rw.snapshot.readersWaiting == 1)
        writerMayLeave.signal()
        #expect(writerDone.wait(timeout: .now() + 10) == .success)
        #expect(readerDone.wait(timeout: .now() + 10) == .success)
        #expect(events.all == ["writer in", "writer out", "late reader in"])
    }

    @Test func withLockHelpersRelease() {
        let rw = ReadWriteMutex()
        #expect(rw.withReadLock { rw.snapshot.readers } == 1)
        #expect(rw.withWriteLock { rw.snapshot.writing })
        #expect(rw.acquireWrite(wait: false))
        rw.releaseWrite()
    }

    @Test func releasingUnheldReadLockTraps() async {
        await #expect(processExitsWith: .failure) {
            ReadWriteMutex().releaseRead()
        }
    }

    @Test func releasingUnheldWriteLockTraps() async {
        await #expect(processExitsWith: .failure) {
            ReadWriteMutex().releaseWrite()
        }
    }

    @Test func releasingAnotherThreadsWriteLockTraps() async {
        await #expect(processExitsWith: .failure) {
            let rw = ReadWriteMutex()
            _ = startThread { rw.acquireWrite() }.wait(timeout: .now() + 10)
            rw.releaseWrite()
        }
    }
}
