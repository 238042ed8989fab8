/// One cached entry, packed in a ``Segment``: a fixed head (27 bytes, 19 without the CAS field
/// under `-C`), two varints, the key, the value.
///
/// ```
///  0  hash chain: the next item in the bucket (8)     19 [CAS unique (8), unless -C]
///  8  exptime (4)                                     .. value length, LEB128 (1-5)
/// 12  last access (4)                                    client flags, LEB128 (1-5)
/// 16  status bits (1)                                    [regeneration ms (2), when set]
/// 17  shape bits (1): CAS field? regeneration time?      key, value (no CRLF)
/// 18  key length (1)
/// ```
///
/// An `Item` is only the address of those bytes. Under its shard's lock every field may be read
/// and the mutable ones (chain, CAS, exptime, last access, status) written. The key, value,
/// flags, lengths and shape never change once written, and the segment keeps them in place
/// while it is referenced: code that sends a value after the lock is released takes a segment
/// reference first (``retain()``), and gives it back when done (``release()``).
public struct Item: Equatable {
    /// The item's first byte.
    let pointer: UnsafeMutableRawPointer

    init(_ pointer: UnsafeMutableRawPointer) {
        self.pointer = pointer
    }

    /// The bits of byte 16, changed under the shard lock. (Byte 17 holds bits fixed when the
    /// item is written, which readers outside the lock may read: ``Shape``.)
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
        /// Read since its segment was last compacted: compaction keeps it (second chance).
        static let active: UInt8 = 64
        /// Counted in its segment's stale bytes by the crawler.
        static let countedStale: UInt8 = 128
        /// The bits a value keeps when it is updated in place (meta's, not the link state).
        static let metaBits: UInt8 = metaStale | winTokenSent | binaryKey
        /// What an in-place update (memcached's incr/decr that fits) leaves as it was.
        static let inPlaceBits: UInt8 = metaBits | fetched
    }

    /// The bits of byte 17, fixed when the item is written.
    enum Shape {
        /// Carries the 2-byte regeneration time.
        static let hasRegeneration: UInt8 = 1
        /// Carries the 8-byte CAS unique (not under `-C`).
        static let hasCAS: UInt8 = 2
    }

    enum Offset {
        static let exptime = 8
        static let lastAccess = 12
        static let status = 16
        static let shape = 17
        static let keyCount = 18
        static let cas = 19
    }

    /// The head without the CAS field.
    static let fixedSize = 19

    /// Bytes an item of this shape takes in a segment.
    static func size(keyCount: Int, valueCount: Int, flags: UInt32, regenerationMilliseconds: UInt16, withCAS: Bool = true) -> Int {
        fixedSize + (withCAS ? 8 : 0) + LEB128.length(UInt64(valueCount)) + LEB128.length(UInt64(flags))
            + (regenerationMilliseconds == 0 ? 0 : 2) + keyCount + valueCount
    }

    /// Writes a new, unlinked item at `pointer` (``size(keyCount:valueCount:flags:regenerationMilliseconds:)``
    /// bytes): the key, and the value `fill` writes.
    static func write(
        at pointer: UnsafeMutableRawPointer, key: UnsafeRawBufferPointer, flags: UInt32, exptime: UInt32,
        valueCount: Int, regenerationMilliseconds: UInt16 = 0, withCAS: Bool = true,
        fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> Item {
        pointer.storeBytes(of: 0, toByteOffset: 0, as: UInt.self)
        pointer.storeBytes(of: exptime, toByteOffset: Offset.exptime, as: UInt32.self)
        pointer.storeBytes(of: 0, toByteOffset: Offset.lastAccess, as: UInt32.self)
        pointer.storeBytes(of: 0, toByteOffset: Offset.status, as: UInt8.self)
        let shape = (regenerationMilliseconds == 0 ? 0 : Shape.hasRegeneration) | (withCAS ? Shape.hasCAS : 0)
        pointer.storeBytes(of: shape, toByteOffset: Offset.shape, as: UInt8.self)
        pointer.storeBytes(of: UInt8(key.count), toByteOffset: Offset.keyCount, as: UInt8.self)
        var offset = fixedSize
        if withCAS {
            pointer.storeBytes(of: 0, toByteOffset: Offset.cas, as: UInt64.self)
            offset += 8
        }
        offset += LEB128.write(UInt64(valueCount), at: pointer + offset)
        offset += LEB128.write(UInt64(flags), at: pointer + offset)
        if regenerationMilliseconds != 0 {
            pointer.storeBytes(of: regenerationMilliseconds, toByteOffset: offset, as: UInt16.self)
            offset += 2
        }
        if key.count > 0 { (pointer + offset).copyMemory(from: key.baseAddress!, byteCount: key.count) }
        fill(UnsafeMutableRawBufferPointer(start: pointer + offset + key.count, count: valueCount))
        return Item(pointer)
    }

    /// The mutable and fixed fields, read and written in place.
    public var header: ItemHeader { ItemHeader(pointer: pointer) }

    /// Where the variable part lies: value length, flags, and the key's offset.
    @inline(__always)
    var shape: (valueCount: Int, flags: UInt32, keyOffset: Int) {
        let bits = pointer.load(fromByteOffset: Offset.shape, as: UInt8.self)
        var offset = Self.fixedSize + (bits & Shape.hasCAS != 0 ? 8 : 0)
        let (valueCount, first) = LEB128.read(at: pointer + offset)
        offset += first
        let (flags, second) = LEB128.read(at: pointer + offset)
        offset += second
        if bits & Shape.hasRegeneration != 0 { offset += 2 }
        return (Int(valueCount), UInt32(truncatingIfNeeded: flags), offset)
    }

    /// Bytes it takes in its segment.
    var size: Int {
        let shape = shape
        return shape.keyOffset + Int(header.keyCount) + shape.valueCount
    }

    /// Value length in bytes.
    public var valueLength: Int { shape.valueCount }
    /// Client flags.
    public var clientFlags: UInt32 { shape.flags }
    /// CAS unique.
    public var casUnique: UInt64 { header.cas }
    /// Δ for early recompute: how long the regeneration that stored it took, in milliseconds.
    public var regenerationTime: Int64 { Int64(header.regenerationMilliseconds) }

    /// The key bytes.
    @inline(__always)
    public func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer + shape.keyOffset, count: Int(header.keyCount)))
    }

    /// The value bytes (without the protocol's `\r\n`).
    @inline(__always)
    public func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let shape = shape
        return try body(UnsafeRawBufferPointer(start: pointer + shape.keyOffset + Int(header.keyCount), count: shape.valueCount))
    }

    /// Whether the key equals `key`.
    @inline(__always)
    func hasKey(_ key: UnsafeRawBufferPointer) -> Bool {
        guard Int(pointer.load(fromByteOffset: Offset.keyCount, as: UInt8.self)) == key.count else { return false }
        return withKey { stored in key.count == 0 || memcmp(stored.baseAddress!, key.baseAddress!, key.count) == 0 }
    }

    /// The segment the item lives in.
    var segment: Segment { Segment(containing: pointer) }

    /// Keeps the item's bytes in place until ``release()``, after the shard lock is released
    /// (take it under the lock).
    public func retain() { segment.retain() }

    /// Gives back a reference taken by ``retain()``.
    public func release() { segment.release() }

    /// The address that stands for the item's segment reference, for C callbacks that give it
    /// back with ``releaseSegment(_:)`` (a value sent by reference).
    public var segmentAddress: UnsafeMutableRawPointer { segment.base }

    /// Gives back a reference taken by ``retain()`` on an item of the segment at `address`.
    public static func releaseSegment(_ address: UnsafeMutableRawPointer) {
        Segment(containing: address).release()
    }
}

/// The fields of an ``Item`` in its segment, by name (stored unaligned, as the item is packed).
public struct ItemHeader {
    let pointer: UnsafeMutableRawPointer

    /// Next item in the same hash bucket.
    var hashNext: Item? {
        get { UnsafeMutableRawPointer(bitPattern: pointer.loadUnaligned(fromByteOffset: 0, as: UInt.self)).map(Item.init) }
        nonmutating set { pointer.storeBytes(of: UInt(bitPattern: newValue?.pointer), toByteOffset: 0, as: UInt.self) }
    }
    /// Whether the item has a CAS field (not under `-C`).
    var hasCAS: Bool { pointer.load(fromByteOffset: Item.Offset.shape, as: UInt8.self) & Item.Shape.hasCAS != 0 }
    /// The CAS unique; 0 for an item without the field (`-C`), where setting it does nothing.
    public internal(set) var cas: UInt64 {
        get { hasCAS ? pointer.loadUnaligned(fromByteOffset: Item.Offset.cas, as: UInt64.self) : 0 }
        nonmutating set { if hasCAS { pointer.storeBytes(of: newValue, toByteOffset: Item.Offset.cas, as: UInt64.self) } }
    }
    /// Expiry on the ``ServerClock``; 0 means never.
    public internal(set) var exptime: UInt32 {
        get { pointer.loadUnaligned(fromByteOffset: Item.Offset.exptime, as: UInt32.self) }
        nonmutating set { pointer.storeBytes(of: newValue, toByteOffset: Item.Offset.exptime, as: UInt32.self) }
    }
    /// When the item was last read (or stored), on the ``ServerClock``.
    var lastAccess: UInt32 {
        get { pointer.loadUnaligned(fromByteOffset: Item.Offset.lastAccess, as: UInt32.self) }
        nonmutating set { pointer.storeBytes(of: newValue, toByteOffset: Item.Offset.lastAccess, as: UInt32.self) }
    }
    /// ``Item/Status`` bits.
    var status: UInt8 {
        get { pointer.load(fromByteOffset: Item.Offset.status, as: UInt8.self) }
        nonmutating set { pointer.storeBytes(of: newValue, toByteOffset: Item.Offset.status, as: UInt8.self) }
    }
    /// Key length.
    public var keyCount: UInt8 { pointer.load(fromByteOffset: Item.Offset.keyCount, as: UInt8.self) }
    /// Value length, without the protocol's `\r\n`.
    public var valueCount: UInt32 { UInt32(Item(pointer).shape.valueCount) }
    /// Client flags.
    public var flags: UInt32 { Item(pointer).shape.flags }
    /// How long the `setgen` that stored this item took from its lease's grant, in milliseconds
    /// (saturating at 65,535; 0 when not stored by `setgen`): the Δ of early recompute.
    public var regenerationMilliseconds: UInt16 {
        guard pointer.load(fromByteOffset: Item.Offset.shape, as: UInt8.self) & Item.Shape.hasRegeneration != 0 else { return 0 }
        let item = Item(pointer)
        return pointer.loadUnaligned(fromByteOffset: item.shape.keyOffset - 2, as: UInt16.self)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
