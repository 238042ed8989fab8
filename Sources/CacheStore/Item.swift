/// The fixed fields of an ``Item``, stored inline before its key and value bytes.
public struct ItemHeader {
    /// Next item in the same hash bucket; the shard owns one retain of every linked item.
    var hashNext: Unmanaged<Item>?
    /// Neighbours in the shard's LRU list (towards the head / the tail).
    var lruPrevious: Unmanaged<Item>?
    var lruNext: Unmanaged<Item>?
    /// The CAS unique.
    public internal(set) var cas: UInt64
    /// Expiry on the ``ServerClock``; 0 means never.
    public internal(set) var exptime: UInt32
    /// When the item was last bumped in its LRU, on the ``ServerClock``.
    var lastAccess: UInt32
    /// Client flags.
    public internal(set) var flags: UInt32
    /// Value length, without the stored `\r\n`.
    public let valueCount: UInt32
    /// Key length.
    public let keyCount: UInt8
    /// ``Item/Status`` bits.
    var status: UInt8
    /// How long the `setgen` that stored this item took from its lease's grant, in milliseconds
    /// (saturating at 65,535; 0 when not stored by `setgen`): the Δ of early recompute. It sits in
    /// what was padding, so the header's size is unchanged.
    public internal(set) var regenerationMilliseconds: UInt16
}

/// One cached entry: header, key and value (followed by `\r\n`) in a single allocation.
///
/// Items are immutable once linked, except for the header fields a shard updates under its lock
/// (exptime on touch, LRU links, access time). A reader holding an `Item` can therefore send its
/// bytes after the shard lock is released, even if the key is replaced meanwhile.
public final class Item: ManagedBuffer<ItemHeader, UInt8> {
    enum Status {
        static let linked: UInt8 = 1
        static let fetched: UInt8 = 2
        /// Marked stale by meta's `md I` or `ms I`: still served to every verb, flagged `X` to
        /// `mg`. (lockgen's stale copy is a different notion, derived from exptime.)
        static let metaStale: UInt8 = 4
        /// A meta client has been handed the recache win (`W`); later ones see `Z`.
        static let winTokenSent: UInt8 = 8
        /// Stored under a base64 (`b`) key: meta replies show the key base64-encoded.
        static let binaryKey: UInt8 = 16
        /// Created empty by `mg N` on a miss: a claim on the key, not a value.
        static let placeholder: UInt8 = 32
        /// The bits a value keeps when it is updated in place (meta's, not the link state).
        static let metaBits: UInt8 = metaStale | winTokenSent | binaryKey
        /// What an in-place update (memcached's incr/decr that fits) leaves as it was.
        static let inPlaceBits: UInt8 = metaBits | fetched
    }

    /// Allocates an item and copies the key and value into it.
    static func make(
        key: UnsafeRawBufferPointer, flags: UInt32, exptime: UInt32, valueCount: Int,
        regenerationMilliseconds: UInt16 = 0, fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> Item {
        let capacity = key.count + valueCount + 2
        let buffer = Item.create(minimumCapacity: capacity) { _ in
            ItemHeader(
                hashNext: nil, lruPrevious: nil, lruNext: nil, cas: 0, exptime: exptime, lastAccess: 0,
                flags: flags, valueCount: UInt32(valueCount), keyCount: UInt8(key.count), status: 0,
                regenerationMilliseconds: regenerationMilliseconds)
        }
        let item = unsafeDowncast(buffer, to: Item.self)
        item.withUnsafeMutablePointerToElements { bytes in
            bytes.initialize(from: key.bindMemory(to: UInt8.self).baseAddress!, count: key.count)
            fill(UnsafeMutableRawBufferPointer(start: bytes + key.count, count: valueCount))
            bytes[key.count + valueCount] = 0x0D
            bytes[key.count + valueCount + 1] = 0x0A
        }
        return item
    }

    /// Bytes this item costs against the memory limit: object header, fields, key, value, CRLF and
    /// the allocator's own header, rounded to its 16-byte granularity.
    public static func footprint(keyCount: Int, valueCount: Int) -> Int {
        let raw = 16 + MemoryLayout<ItemHeader>.stride + keyCount + valueCount + 2 + 8
        return (raw + 15) & ~15
    }

    // Fields fixed before the item is linked, read without copying the whole header (whose LRU
    // links and access time other threads may be updating under the shard lock).

    /// Value length in bytes.
    public var valueLength: Int { withUnsafeMutablePointerToHeader { Int($0.pointee.valueCount) } }
    /// Client flags.
    public var clientFlags: UInt32 { withUnsafeMutablePointerToHeader { $0.pointee.flags } }
    /// CAS unique.
    public var casUnique: UInt64 { withUnsafeMutablePointerToHeader { $0.pointee.cas } }
    /// Δ for early recompute: how long the regeneration that stored it took, in milliseconds.
    public var regenerationTime: Int64 { withUnsafeMutablePointerToHeader { Int64($0.pointee.regenerationMilliseconds) } }

    /// This item's ``footprint(keyCount:valueCount:)``.
    public var footprint: Int {
        Item.footprint(keyCount: Int(header.keyCount), valueCount: Int(header.valueCount))
    }

    /// The key bytes.
    @inlinable
    public func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let count = Int(header.keyCount)
        return try withUnsafeMutablePointerToElements { try body(UnsafeRawBufferPointer(start: $0, count: count)) }
    }

    /// The value bytes followed by `\r\n`.
    @inlinable
    public func withValueAndTerminator<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let keyCount = Int(header.keyCount)
        let count = Int(header.valueCount) + 2
        return try withUnsafeMutablePointerToElements {
            try body(UnsafeRawBufferPointer(start: $0 + keyCount, count: count))
        }
    }

    /// Whether the key equals `key`.
    @inline(__always)
    func hasKey(_ key: UnsafeRawBufferPointer) -> Bool {
        guard Int(header.keyCount) == key.count else { return false }
        return withUnsafeMutablePointerToElements { bytes in
            key.count == 0 || memcmp(bytes, key.baseAddress!, key.count) == 0
        }
    }

}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
