import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A block of item memory mapped from the kernel: a 64-byte header, then items packed one after
/// another (docs/store-layout.md has the picture).
///
/// Shared segments hold many small items of one shard, appended at `used`; a *solo* segment
/// holds one item too large to share (more than an eighth of a shared segment). Every segment
/// starts on a ``alignment`` boundary, so the segment of an item is found by masking its
/// address, and an item's bytes are never moved or overwritten while the segment is mapped:
/// compaction moves items only in a segment nobody but its shard references.
///
/// A segment is reference counted (an atomic in its header): its shard owns one reference while
/// the segment is in its list, and a reader that sends an item's bytes after the shard lock is
/// released (a large value, a value kept for parked waiters) holds another. The last release
/// unmaps it and gives its bytes back to the store's ``MemoryCounter``, so memory the store
/// counts is exactly memory mapped, and memory freed goes back to the OS at once.
struct Segment: Equatable {
    /// The segment's first byte (its header).
    let base: UnsafeMutableRawPointer

    /// Segments start on this boundary (1 MiB), whatever their size.
    static let alignment = 1 << 20
    /// The largest shared segment.
    static let maximumSize = alignment
    /// Items larger than this never share a segment. The server sends values larger than this
    /// by reference (it copies smaller ones), so a client that stops reading holds only the
    /// segments of the values it is sent, never a shared one full of other items.
    static let largestSharedItem = 16 * 1024
    /// Bytes before the first item.
    static let headerSize = 64

    private enum Offset {
        static let references = 0
        static let mappedSize = 8
        static let used = 16
        static let liveBytes = 24
        static let staleBytes = 32
        static let memory = 40
        static let solo = 48
        static let counted = 49
        static let sequence = 56
    }

    /// The segment holding the item that starts at `item`.
    @inline(__always)
    init(containing item: UnsafeRawPointer) {
        base = UnsafeMutableRawPointer(bitPattern: UInt(bitPattern: item) & ~UInt(Self.alignment - 1))!
    }

    private init(base: UnsafeMutableRawPointer) {
        self.base = base
    }

    /// Maps a segment of `size` bytes (header included; a multiple of the page size) if
    /// `memory` stays within `limit`; it is counted there until it is unmapped. Nil when the
    /// limit or the kernel refuses.
    static func map(size: Int, solo: Bool, memory: MemoryCounter, limit: Int) -> Segment? {
        guard memory.reserve(size, within: limit) else { return nil }
        // Over-map by the alignment and trim both ends, so the segment starts on a boundary.
        let reserve = size + alignment
        guard let raw = mmap(nil, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED else {
            memory.add(-size)
            return nil
        }
        let start = UInt(bitPattern: raw)
        let aligned = (start + UInt(alignment - 1)) & ~UInt(alignment - 1)
        if aligned > start { munmap(raw, Int(aligned - start)) }
        let tail = Int(start) + reserve - (Int(aligned) + size)
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + UInt(size)), tail) }
        let segment = Segment(base: UnsafeMutableRawPointer(bitPattern: aligned)!)
        (segment.base + Offset.references).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(1))
        segment.base.storeBytes(of: size, toByteOffset: Offset.mappedSize, as: Int.self)
        segment.reset()
        segment.base.storeBytes(of: Unmanaged.passRetained(memory).toOpaque(), toByteOffset: Offset.memory, as: UnsafeMutableRawPointer.self)
        segment.base.storeBytes(of: solo ? 1 : 0, toByteOffset: Offset.solo, as: UInt8.self)
        (segment.base + Offset.counted).bindMemory(to: Atomic<UInt8>.self, capacity: 1).initialize(to: Atomic(1))
        segment.newestWrite = 0
        return segment
    }

    /// Empties the segment for reuse (its shard must hold the only reference).
    func reset() {
        used = Self.headerSize
        liveBytes = 0
        staleBytes = 0
    }

    private var references: UnsafeMutablePointer<Atomic<Int>> {
        (base + Offset.references).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// Takes a reference: the segment stays mapped until it is released.
    @inline(__always)
    func retain() {
        references.pointee.wrappingAdd(1, ordering: .relaxed)
    }

    /// Gives a reference back; the last one unmaps the segment.
    @inline(__always)
    func release() {
        if references.pointee.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 { unmap() }
    }

    private var counted: UnsafeMutablePointer<Atomic<UInt8>> {
        (base + Offset.counted).assumingMemoryBound(to: Atomic<UInt8>.self)
    }

    /// Gives back the shard's reference. A segment readers still hold stops counting against
    /// the store's limit now (as an item a reader held did before segments): what slow readers
    /// keep must not take the store's room, and is bounded by their output limits instead.
    func releaseFromShard() {
        if !isUnshared { uncount() }
        release()
    }

    /// Takes the segment out of the store's count, once (the unmap and an early release race).
    private func uncount() {
        if counted.pointee.exchange(0, ordering: .acquiringAndReleasing) == 1 {
            memory.takeUnretainedValue().add(-mappedSize)
        }
    }

    private var memory: Unmanaged<MemoryCounter> {
        Unmanaged<MemoryCounter>.fromOpaque(base.load(fromByteOffset: Offset.memory, as: UnsafeMutableRawPointer.self))
    }

    /// Whether the shard's reference is the only one (compaction may then move bytes).
    var isUnshared: Bool { references.pointee.load(ordering: .acquiring) == 1 }

    private func unmap() {
        let size = mappedSize
        uncount()
        memory.release()
        munmap(base, size)
    }

    /// Bytes mapped, header included.
    var mappedSize: Int { base.load(fromByteOffset: Offset.mappedSize, as: Int.self) }

    /// Where the next item goes (an offset from `base`).
    var used: Int {
        get { base.load(fromByteOffset: Offset.used, as: Int.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: Offset.used, as: Int.self) }
    }

    /// Bytes of the items in it that are linked in the shard's table.
    var liveBytes: Int {
        get { base.load(fromByteOffset: Offset.liveBytes, as: Int.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: Offset.liveBytes, as: Int.self) }
    }

    /// Bytes of linked items the crawler found stale (counted in `liveBytes` too).
    var staleBytes: Int {
        get { base.load(fromByteOffset: Offset.staleBytes, as: Int.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: Offset.staleBytes, as: Int.self) }
    }

    /// The CAS sequence number of the newest item linked in it: the segment whose newest item
    /// is the oldest in the whole store is the first to go when memory shrinks.
    var newestWrite: UInt64 {
        get { base.load(fromByteOffset: Offset.sequence, as: UInt64.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: Offset.sequence, as: UInt64.self) }
    }

    /// Whether it holds one large item.
    var isSolo: Bool { base.load(fromByteOffset: Offset.solo, as: UInt8.self) != 0 }

    /// Bytes a compaction would win back: items no longer linked, and stale copies.
    var garbage: Int { used - Self.headerSize - liveBytes + staleBytes }

    /// Room left at the end.
    var room: Int { mappedSize - used }

    /// Reserves `count` bytes at the end; nil when they do not fit.
    @inline(__always)
    func allocate(_ count: Int) -> UnsafeMutableRawPointer? {
        let offset = used
        guard offset + count <= mappedSize else { return nil }
        used = offset + count
        return base + offset
    }

    /// The page size, for rounding solo segments.
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// The mapped size of a solo segment for an item of `count` bytes.
    static func soloSize(for count: Int) -> Int {
        (headerSize + count + pageSize - 1) & ~(pageSize - 1)
    }
}
