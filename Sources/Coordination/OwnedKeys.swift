/// The keys of one shard that one connection holds or waits on, as the ownership index keeps
/// them: almost always one (a parked `lockgen`, a held mutex), so that case is stored inline
/// and costs no set of its own.
@usableFromInline
enum OwnedKeys: Equatable {
    case one(LockKey)
    case many(Set<LockKey>)
    /// Only while a set is being changed in place (so it is not shared with a copy).
    case changing

    /// Adds `key`.
    @usableFromInline mutating func insert(_ key: LockKey) {
        switch self {
        case .one(let only):
            if only != key { self = .many([only, key]) }
        case .many(var keys):
            self = .changing
            keys.insert(key)
            self = .many(keys)
        case .changing:
            self = .one(key)
        }
    }

    /// Removes `key`; returns whether none are left.
    @usableFromInline mutating func remove(_ key: LockKey) -> Bool {
        switch self {
        case .one(let only):
            return only == key
        case .many(var keys):
            self = .changing
            keys.remove(key)
            self = .many(keys)
            return keys.isEmpty
        case .changing:
            return true
        }
    }

    /// Every key, in no particular order.
    @usableFromInline var all: [LockKey] {
        switch self {
        case .one(let only): [only]
        case .many(let keys): Array(keys)
        case .changing: []
        }
    }

    /// As a set (for the books check in tests).
    @usableFromInline var asSet: Set<LockKey> { Set(all) }
}
