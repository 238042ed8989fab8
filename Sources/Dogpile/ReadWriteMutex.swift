#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex allowing many readers or one writer, with writer preference.
///
/// The Swift form of dogpile's `ReadWriteMutex`, with one deliberate difference: **a writer
/// that is waiting blocks readers that arrive after it**, so a steady stream of overlapping
/// readers cannot starve writers. dogpile's class only stops new readers once a writer has
/// claimed the lock, and makes no such promise while a writer is still queued behind another
/// writer. The flip side is that a steady stream of writers can delay readers.
///
/// Like dogpile, releasing a lock that is not held is a programming error; here it traps with
/// a message instead of raising `LockError`. The write lock belongs to the thread that took
/// it and must be released by that thread; read locks may be released from any thread.
/// Neither lock is reentrant: a thread holding the read lock that asks for the write lock
/// deadlocks.
public final class ReadWriteMutex: @unchecked Sendable {
    private let monitor = Monitor()
    // All guarded by `monitor` (hence `@unchecked Sendable`).
    private var readers = 0
    private var writer: pthread_t?
    private var writersWaiting = 0
    private var readersWaiting = 0

    /// Creates an unlocked mutex.
    public init() {}

    /// Takes a shared read lock.
    ///
    /// - Parameter wait: When `true` (the default), blocks while a writer holds the lock or
    ///   is waiting for it. When `false`, gives up at once in those cases.
    /// - Returns: Whether the read lock was taken; always `true` when `wait` is `true`.
    @discardableResult
    public func acquireRead(wait: Bool = true) -> Bool {
        monitor.withLock {
            if writer == nil && writersWaiting == 0 {
                readers += 1
                return true
            }
            guard wait else { return false }
            readersWaiting += 1
            while writer != nil || writersWaiting > 0 { monitor.wait() }
            readersWaiting -= 1
            readers += 1
            return true
        }
    }

    /// Gives up one read lock, letting a waiting writer in once the last reader leaves.
    ///
    /// - Precondition: At least one read lock is held; otherwise this traps.
    public func releaseRead() {
        monitor.withLock {
            precondition(readers > 0, "Dogpile.ReadWriteMutex: releaseRead() called with no read lock held")
            readers -= 1
            if readers == 0 { monitor.broadcast() }
        }
    }

    /// Takes the exclusive write lock.
    ///
    /// - Parameter wait: When `true` (the default), blocks until no reader or writer holds the
    ///   lock; from the moment it starts waiting, new readers queue behind it. When `false`,
    ///   gives up at once if anyone holds the lock.
    /// - Returns: Whether the write lock was taken; always `true` when `wait` is `true`.
    @discardableResult
    public func acquireWrite(wait: Bool = true) -> Bool {
        monitor.withLock {
            if writer == nil && readers == 0 {
                writer = pthread_self()
                return true
            }
            guard wait else { return false }
            writersWaiting += 1
            while writer != nil || readers > 0 { monitor.wait() }
            writersWaiting -= 1
            writer = pthread_self()
            return true
        }
    }

    /// Gives up the write lock, waking everyone waiting (writers still go first).
    ///
    /// - Precondition: The calling thread holds the write lock; otherwise this traps.
    public func releaseWrite() {
        monitor.withLock {
            guard let owner = writer, pthread_equal(owner, pthread_self()) != 0 else {
                preconditionFailure(
                    "Dogpile.ReadWriteMutex: releaseWrite() called by a thread that does not hold the write lock")
            }
            writer = nil
            monitor.broadcast()
        }
    }

    /// Runs `body` holding a read lock.
    public func withReadLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        acquireRead()
        defer { releaseRead() }
        return try body()
    }

    /// Runs `body` holding the write lock.
    public func withWriteLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        acquireWrite()
        defer { releaseWrite() }
        return try body()
    }

    /// A snapshot of the lock's bookkeeping, for tests: read locks held, whether the write
    /// lock is held, and how many readers and writers are blocked waiting.
    var snapshot: (readers: Int, writing: Bool, readersWaiting: Int, writersWaiting: Int) {
        monitor.withLock { (readers, writer != nil, readersWaiting, writersWaiting) }
    }
}
