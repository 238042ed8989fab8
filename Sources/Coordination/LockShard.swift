#if canImport(Glibc)
import Glibc
#endif

/// One shard of a ``LockTable``: a pthread mutex (clean under ThreadSanitizer, unlike
/// `Synchronization.Mutex`) around the entries, the index of what each connection holds or waits
/// for, the timers, and running totals for `stats locks`.
@usableFromInline
final class LockShard<Entry: LockEntry>: @unchecked Sendable {
    @usableFromInline let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    @usableFromInline var entries: [LockKey: Entry] = [:]
    /// Requester → the keys of this shard it holds or waits on: closing costs O(own keys).
    @usableFromInline var owners: [Requester: OwnedKeys] = [:]
    @usableFromInline var timers = DeadlineHeap()
    @usableFromInline var holds = 0
    @usableFromInline var waiters = 0

    @usableFromInline init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable
    func withLock<Result>(_ body: (LockShard<Entry>) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(self)
    }

    /// Applies the index actions of `step` for `key`.
    @inlinable
    func index(_ actions: [LockAction], key: LockKey) {
        for action in actions {
            switch action {
            case .joined(let requester):
                if let index = owners.index(forKey: requester) {
                    owners.values[index].insert(key)
                } else {
                    owners[requester] = .one(key)
                }
            case .left(let requester):
                // In place: copying the set out would copy it whole.
                if let index = owners.index(forKey: requester), owners.values[index].remove(key) {
                    owners.remove(at: index)
                }
            default:
                continue
            }
        }
    }
}
