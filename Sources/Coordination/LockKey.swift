/// An owned copy of a key or mutex name, as the lock tables index it. Lock verbs are far rarer
/// than gets and sets, so this one small allocation per request is acceptable.
///
/// The key is hashed once, when it is made: a table looks it up in several places per event (the
/// entries, the timers, the ownership index), and hashing the bytes each time would cost more
/// than the event itself.
public struct LockKey: Hashable, Sendable {
    /// The bytes.
    public let bytes: [UInt8]
    /// FNV-1a over the bytes: picks the shard and feeds `Hasher`.
    private let fingerprint: UInt64

    /// Copies `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.init(bytes: Array(bytes))
    }

    /// Wraps an array.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        self.fingerprint = hash
    }

    /// A shard index for `count` shards (a power of two).
    @usableFromInline func shard(of count: Int) -> Int {
        // The high bits: the low ones also pick the dictionaries' buckets within a shard.
        Int(truncatingIfNeeded: fingerprint >> 40) & (count - 1)
    }

    public static func == (lhs: LockKey, rhs: LockKey) -> Bool {
        lhs.fingerprint == rhs.fingerprint && lhs.bytes == rhs.bytes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fingerprint)
    }
}
