import Dogpile
import Foundation
import Testing

@Suite struct InProcessMutexTests {
    @Test func nonBlockingAcquireFailsWhileHeld() {
        let mutex = InProcessMutex()
        #expect(mutex.acquire(blocking: false))
        #expect(mutex.isHeld)
        #expect(!mutex.acquire(blocking: false))
        mutex.release()
        #expect(!mutex.isHeld)
        #expect(mutex.acquire(blocking: false))
        mutex.release()
    }

    @Test func blockingAcquireWaitsAndAnotherThreadMayRelease() {
        let mutex = InProcessMutex()
        #expect(mutex.acquire(blocking: true))
        let waiter = startThread {
            _ = mutex.acquire(blocking: true)
        }
        #expect(waiter.wait(timeout: .now() + 0.05) == .timedOut)  // still blocked
        startThread { mutex.release() }  // released by a thread that never acquired it
        #expect(waiter.wait(timeout: .now() + 10) == .success)
        #expect(mutex.isHeld)  // now held by the waiter
        mutex.release()
    }

    @Test func releasingUnheldMutexTraps() async {
        await #expect(processExitsWith: .failure) {
            InProcessMutex().release()
        }
    }
}
