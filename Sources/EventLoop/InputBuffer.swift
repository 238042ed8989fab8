#if canImport(Glibc)
import Glibc
#endif

/// A connection's unconsumed input in one contiguous, growable block, so the parser can scan a
/// whole request (line and data block) without copying it together.
///
/// Bytes are read straight from the socket into the free space at the end; consumed bytes are
/// dropped from the front lazily (moved down only when the free space runs short).
public final class InputBuffer {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var readerIndex = 0
    private var writerIndex = 0
    private let initialCapacity: Int

    /// Creates a buffer of `initialCapacity` bytes.
    public init(initialCapacity: Int = 16 * 1024) {
        self.initialCapacity = initialCapacity
        capacity = initialCapacity
        storage = .allocate(byteCount: initialCapacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// The unconsumed bytes.
    public var readableBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + readerIndex, count: writerIndex - readerIndex)
    }

    /// Number of unconsumed bytes.
    public var readableCount: Int { writerIndex - readerIndex }

    /// Drops `count` bytes from the front.
    public func consume(_ count: Int) {
        readerIndex += count
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    /// Makes sure `total` unconsumed bytes fit without another move or growth.
    public func reserve(total: Int) {
        if readerIndex + total <= capacity { return }
        compact()
        if total <= capacity { return }
        grow(to: total)
    }

    /// Reads once from `descriptor` into the free space (at least `minimumFree` bytes are made
    /// available first). Returns the bytes read, 0 at end of stream, or -1 with `errno` set.
    public func read(from descriptor: Int32, minimumFree: Int = 4096) -> Int {
        if capacity - writerIndex < minimumFree {
            compact()
            if capacity - writerIndex < minimumFree { grow(to: capacity * 2) }
        }
        let count = Glibc.read(descriptor, storage + writerIndex, capacity - writerIndex)
        if count > 0 { writerIndex += count }
        return count
    }

    /// Whether the last read filled all the free space (more may be waiting in the socket).
    public var isFull: Bool { writerIndex == capacity }

    /// Returns to the initial size once a large request has gone, so idle connections stay small.
    public func shrinkIfIdle() {
        guard capacity > initialCapacity, readableCount <= initialCapacity / 2 else { return }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: initialCapacity, alignment: 16)
        let count = readableCount
        if count > 0 { fresh.copyMemory(from: storage + readerIndex, byteCount: count) }
        storage.deallocate()
        storage = fresh
        capacity = initialCapacity
        readerIndex = 0
        writerIndex = count
    }

    private func compact() {
        guard readerIndex > 0 else { return }
        let count = readableCount
        if count > 0 { memmove(storage, storage + readerIndex, count) }
        readerIndex = 0
        writerIndex = count
    }

    private func grow(to size: Int) {
        compact()
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        if writerIndex > 0 { fresh.copyMemory(from: storage, byteCount: writerIndex) }
        storage.deallocate()
        storage = fresh
        capacity = size
    }
}
