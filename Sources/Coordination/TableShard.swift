#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex around a dictionary: the unit both lock tables are sharded into.
final class TableShard<Entry>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    var entries: [LockKey: Entry] = [:]

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<Result>(_ body: (TableShard<Entry>) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(self)
    }
}

/// A lock table's shards: the shard of a key, and every shard in turn.
struct TableShards<Entry>: Sendable {
    private let shards: [TableShard<Entry>]

    /// `count` shards (a power of two).
    init(count: Int) {
        shards = (0..<count).map { _ in TableShard<Entry>() }
    }

    /// The shard that holds `key`.
    subscript(key: LockKey) -> TableShard<Entry> {
        shards[key.shard(of: shards.count)]
    }

    /// Runs `body` on every shard, each under its lock.
    func forEachLocked(_ body: (TableShard<Entry>) -> Void) {
        for shard in shards { shard.withLock(body) }
    }
}
