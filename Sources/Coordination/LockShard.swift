#if canImport(Glibc)
import Glibc
#endif

/// One shard of a ``LockTable``: a pthread mutex (clean under ThreadSanitizer, unlike
/// `Synchronization.Mutex`) around the entries, the index of what each connection holds or waits
/// for, the timers, and running totals for `stats locks`.
final class LockShard<Entry: LockEntry>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    var entries: [LockKey: Entry] = [:]
    /// Requester → the keys of this shard it holds or waits on: closing costs O(own keys).
    var owners: [Requester: Set<LockKey>] = [:]
    var timers = DeadlineHeap()
    var holds = 0
    var waiters = 0

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<Result>(_ body: (LockShard<Entry>) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(self)
    }

    /// Applies the index actions of `step` for `key`.
    func index(_ actions: [LockAction], key: LockKey) {
        for action in actions {
            switch action {
            case .joined(let requester):
                owners[requester, default: []].insert(key)
            case .left(let requester):
                // In place: copying the set out would copy it whole.
                owners[requester]?.remove(key)
                if owners[requester]?.isEmpty == true { owners[requester] = nil }
            default:
                continue
            }
        }
    }
}
