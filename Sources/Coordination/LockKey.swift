/// An owned copy of a key or mutex name, as the lock tables index it. Lock verbs are far rarer
/// than gets and sets, so this one small allocation per request is acceptable.
public struct LockKey: Hashable, Sendable {
    /// The bytes.
    public let bytes: [UInt8]

    /// Copies `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = Array(bytes)
    }

    /// Wraps an array.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A shard index for `count` shards (a power of two).
    func shard(of count: Int) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash) & (count - 1)
    }
}
