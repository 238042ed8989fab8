import Dogpile
import Foundation
import Synchronization

/// Runs `body(index)` on `count` freshly started threads and waits (up to `timeout` seconds)
/// for all of them to finish. Returns whether they all finished in time.
func runOnThreads(_ count: Int, timeout: Double = 20, _ body: @escaping @Sendable (Int) -> Void) -> Bool {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    return group.wait(timeout: .now() + timeout) == .success
}

/// Starts one thread running `body`; returns a semaphore signalled when it ends.
@discardableResult
func startThread(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
    let finished = DispatchSemaphore(value: 0)
    Thread {
        body()
        finished.signal()
    }.start()
    return finished
}

/// Polls `condition` every millisecond until it holds or `timeout` seconds pass. Used only to
/// wait for a state (e.g. "a writer is now queued"), never to assert on timing.
func waitUntil(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        usleep(1_000)
    }
    return true
}

/// Waits for `semaphore` to be signalled `times` times, each within `timeout` seconds.
func wait(_ semaphore: DispatchSemaphore, times: Int, timeout: Double = 10) -> Bool {
    for _ in 0..<times where semaphore.wait(timeout: .now() + timeout) == .timedOut {
        return false
    }
    return true
}

/// Seconds since the epoch, as `Lock` expects creation times.
func epochNow() -> Double { Date().timeIntervalSince1970 }

/// A real ``InProcessMutex`` with counters (and a hook) around its calls: instrumentation,
/// not a mock; the locking itself is the library's.
final class CountingMutex: DogpileMutex {
    let inner = InProcessMutex()
    let tryAcquires = Atomic(0)
    let blockingAcquires = Atomic(0)
    let releases = Atomic(0)
    /// Signalled each time a blocking acquire starts (before it waits).
    let blockingAcquireStarted = DispatchSemaphore(value: 0)

    func acquire(blocking: Bool) -> Bool {
        if blocking {
            blockingAcquires.add(1, ordering: .sequentiallyConsistent)
            blockingAcquireStarted.signal()
        } else {
            tryAcquires.add(1, ordering: .sequentiallyConsistent)
        }
        return inner.acquire(blocking: blocking)
    }

    func release() {
        releases.add(1, ordering: .sequentiallyConsistent)
        inner.release()
    }

    var totalAcquires: Int {
        tryAcquires.load(ordering: .sequentiallyConsistent) + blockingAcquires.load(ordering: .sequentiallyConsistent)
    }
}

/// A stand-in cache holding one value and its creation time.
final class Cell<Value: Sendable>: Sendable {
    private let slot: Mutex<(value: Value, createdAt: Double)?>

    init(_ initial: (value: Value, createdAt: Double)? = nil) {
        slot = Mutex(initial)
    }

    /// dogpile's value-and-created function: throws `NeedRegeneration` when empty.
    func read() throws -> (value: Value, createdAt: Double) {
        guard let found = slot.withLock({ $0 }) else { throw NeedRegeneration() }
        return found
    }

    /// Stores `value` as created now and returns what was stored.
    @discardableResult
    func store(_ value: Value, createdAt: Double = epochNow()) -> (value: Value, createdAt: Double) {
        slot.withLock { $0 = (value, createdAt) }
        return (value, createdAt)
    }
}

/// Results collected from many threads.
final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

/// A test error.
struct Boom: Error, Equatable {}
