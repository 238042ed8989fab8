/// The default ``DogpileMutex``: a non-reentrant mutex shared by the threads of one process,
/// like Python's `threading.Lock`.
///
/// It is built from a pthread mutex and condition variable guarding a "held" flag rather than
/// on a bare `pthread_mutex_t`, because a pthread mutex must be unlocked by the thread that
/// locked it, while a dogpile mutex may be handed to an async creator and released from
/// another thread.
public final class InProcessMutex: DogpileMutex, @unchecked Sendable {
    private let monitor = Monitor()
    /// Whether a party holds the mutex. Guarded by `monitor` (hence `@unchecked Sendable`).
    private var held = false

    /// Creates an unheld mutex.
    public init() {}

    /// Takes the mutex, waiting for it when `blocking` is `true`.
    ///
    /// - Returns: Whether the caller now holds the mutex; always `true` when `blocking`.
    public func acquire(blocking: Bool) -> Bool {
        monitor.withLock {
            if !blocking && held { return false }
            while held { monitor.wait() }
            held = true
            return true
        }
    }

    /// Gives the mutex up, from any thread, and wakes one waiter.
    ///
    /// - Precondition: The mutex is held. Releasing an unheld mutex traps, as dogpile raises
    ///   an error for the same mistake.
    public func release() {
        monitor.withLock {
            precondition(held, "Dogpile.InProcessMutex: release() called on a mutex that is not held")
            held = false
            monitor.signal()
        }
    }

    /// Whether some party holds the mutex right now. A snapshot, for diagnostics and tests.
    public var isHeld: Bool {
        monitor.withLock { held }
    }
}
