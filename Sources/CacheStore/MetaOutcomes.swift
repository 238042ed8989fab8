/// How an `ms` stores, after memcached 1.6.18's mode switch: `set`, `add` (E), `append` (A),
/// `prepend` (P), `replace` (R), and compare-and-swap, which a `C` turns set and replace into.
public enum MetaStoreMode: Sendable {
    case set, add, append, prepend, replace, compareAndSwap
}

/// The result of ``Store/metaStore(_:key:flags:exptime:compareCAS:invalidate:binaryKey:value:)``.
public enum MetaStoreOutcome: Sendable, Equatable {
    /// `HD`, with the new item's CAS.
    case stored(cas: UInt64)
    /// `NS`.
    case notStored
    /// `EX`.
    case exists
    /// `NF`.
    case notFound
    /// No memory with eviction off; the old value was dropped, as memcached does.
    case outOfMemory
}

/// The result of ``Store/metaDelete(_:compareCAS:invalidate:newExptime:)``.
public enum MetaDeleteOutcome: Sendable, Equatable {
    /// Removed (`HD`).
    case deleted
    /// Marked stale with a new CAS (`HD`).
    case invalidated
    /// `NF`.
    case notFound
    /// The CAS did not match (`EX`).
    case exists
}

/// The result of ``Store/metaArithmetic(_:increment:delta:compareCAS:vivify:hitExptime:parse:)``.
public enum MetaArithmeticOutcome: Sendable, Equatable {
    /// The new value, the item's CAS, and its exptime before any `T`/`N` of the request.
    case value(UInt64, cas: UInt64, exptime: UInt32, created: Bool)
    /// `NF`.
    case notFound
    /// `EX`.
    case exists
    /// Not a decimal number (or empty).
    case nonNumeric
    /// Out of memory with eviction off.
    case outOfMemory
}
