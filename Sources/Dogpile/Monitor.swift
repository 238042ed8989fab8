#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex paired with one condition variable: the blocking building block under
/// ``InProcessMutex`` and ``ReadWriteMutex``.
///
/// The pthread mutex is only ever held for the few instructions inside ``withLock(_:)``;
/// the long-lived "held" states of the public locks are plain fields guarded by it, which is
/// what lets them be released from a thread other than the one that acquired them.
final class Monitor: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        let mutexStatus = pthread_mutex_init(mutex, nil)
        precondition(mutexStatus == 0, "Dogpile: pthread_mutex_init failed (\(mutexStatus))")
        let conditionStatus = pthread_cond_init(condition, nil)
        precondition(conditionStatus == 0, "Dogpile: pthread_cond_init failed (\(conditionStatus))")
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the pthread mutex held.
    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Blocks until signalled. Call only inside ``withLock(_:)``, and always in a loop that
    /// re-tests its predicate: condition variables may wake spuriously.
    func wait() {
        pthread_cond_wait(condition, mutex)
    }

    /// Wakes every thread blocked in ``wait()``.
    func broadcast() {
        pthread_cond_broadcast(condition)
    }

    /// Wakes one thread blocked in ``wait()``.
    func signal() {
        pthread_cond_signal(condition)
    }
}
