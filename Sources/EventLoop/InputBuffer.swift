#if canImport(Glibc)
import Glibc
#endif

/// A connection's unconsumed input in one contiguous, growable block, so the parser can scan a
/// whole request (line and data block) without copying it together.
///
/// Bytes are read straight from the socket into the free space at the end; consumed bytes are
/// dropped from the front lazily (moved down only when the free space runs short).
///
/// Memory is bounded twice: one buffer never grows past `maximumCapacity`, and whatever it holds
/// beyond its small base buffer is borrowed from the server's ``InputBufferBudget``. The larger
/// block is freed as soon as the request in it is consumed; from 128 KB on it is mapped with
/// `mmap`, so the memory goes back to the system at once.
public final class InputBuffer {
    /// The result of one ``read(from:)``.
    public enum ReadOutcome: Equatable {
        /// This many bytes arrived.
        case read(Int)
        /// The peer shut its side.
        case endOfStream
        /// Nothing to read now.
        case wouldBlock
        /// The read failed with this `errno` (e.g. a reset).
        case failed(Int32)
        /// The buffer is full and may not grow (its own bound or the server's budget).
        case overLimit
    }

    private let base: UnsafeMutableRawPointer
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var readerIndex = 0
    private var writerIndex = 0
    private let initialCapacity: Int
    /// The most this buffer may hold.
    public let maximumCapacity: Int
    private let budget: InputBufferBudget?

    /// Creates a buffer of `initialCapacity` bytes that may grow to `maximumCapacity`, borrowing
    /// the growth from `budget`.
    public init(initialCapacity: Int = 16 * 1024, maximumCapacity: Int = Int.max, budget: InputBufferBudget? = nil) {
        self.initialCapacity = initialCapacity
        self.maximumCapacity = max(initialCapacity, maximumCapacity)
        self.budget = budget
        capacity = initialCapacity
        base = .allocate(byteCount: initialCapacity, alignment: 16)
        storage = base
        budget?.holdBase(initialCapacity)
    }

    deinit {
        releaseLargeBlock()
        base.deallocate()
        budget?.releaseBase(initialCapacity)
    }

    /// The unconsumed bytes.
    public var readableBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + readerIndex, count: writerIndex - readerIndex)
    }

    /// Number of unconsumed bytes.
    public var readableCount: Int { writerIndex - readerIndex }

    /// Bytes of memory this buffer holds now.
    public var capacityBytes: Int { capacity }

    /// Drops `count` bytes from the front.
    public func consume(_ count: Int) {
        readerIndex += count
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    /// Makes sure `total` unconsumed bytes fit without another move or growth. False if they may
    /// not: over this buffer's bound or the server's budget.
    public func reserve(total: Int) -> Bool {
        if readerIndex + total <= capacity { return true }
        compact()
        if total <= capacity { return true }
        guard total <= maximumCapacity else { return false }
        return grow(to: total)
    }

    /// Reads once from `descriptor` into the free space, growing (within the bounds) when less than
    /// `minimumFree` bytes are free.
    public func read(from descriptor: Int32, minimumFree: Int = 4096) -> ReadOutcome {
        read(minimumFree: minimumFree) { space, free in
            let count = Glibc.read(descriptor, space, free)
            if count > 0 { return .read(count) }
            if count == 0 { return .endOfStream }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return .wouldBlock }
            return .failed(error)
        }
    }

    /// Reads once through `source` (a TLS session) into the free space, with the same growth as
    /// ``read(from:minimumFree:)``. `source` gets the free space and its size and reports what
    /// happened; `.read(n)` adds `n` bytes.
    public func read(minimumFree: Int = 4096, _ source: (UnsafeMutableRawPointer, Int) -> ReadOutcome) -> ReadOutcome {
        if capacity - writerIndex < minimumFree {
            compact()
            if capacity - writerIndex < minimumFree && capacity < maximumCapacity {
                _ = grow(to: min(maximumCapacity, max(capacity * 2, writerIndex + minimumFree)))
            }
            // Refused growth still reads into whatever space is left; only a full buffer stops.
            if writerIndex == capacity { return .overLimit }
        }
        let outcome = source(storage + writerIndex, capacity - writerIndex)
        if case .read(let count) = outcome { writerIndex += count }
        return outcome
    }

    /// Whether the last read filled all the free space (more may be waiting in the socket).
    public var isFull: Bool { writerIndex == capacity }

    /// Returns to the base buffer once a large request has gone, so idle connections stay small
    /// and the budget is free for others.
    public func shrinkIfIdle() {
        guard storage != base, readableCount <= initialCapacity / 2 else { return }
        let count = readableCount
        if count > 0 { base.copyMemory(from: storage + readerIndex, byteCount: count) }
        releaseLargeBlock()
        readerIndex = 0
        writerIndex = count
    }

    /// Drops every byte and gives back all but the base buffer (the connection closes).
    public func release() {
        readerIndex = 0
        writerIndex = 0
        releaseLargeBlock()
    }

    private func compact() {
        guard readerIndex > 0 else { return }
        let count = readableCount
        if count > 0 { memmove(storage, storage + readerIndex, count) }
        readerIndex = 0
        writerIndex = count
    }

    /// Moves the bytes into a larger block of at least `size` bytes; false if the budget or the
    /// system refuses it (nothing changes then).
    private func grow(to size: Int) -> Bool {
        let blockSize = Self.blockSize(for: size)
        let extra = blockSize - (storage == base ? 0 : capacity)
        if let budget, !budget.borrow(extra) { return false }
        guard let block = Self.allocateBlock(blockSize) else {
            budget?.giveBack(extra)
            return false
        }
        compact()
        if writerIndex > 0 { block.copyMemory(from: storage, byteCount: writerIndex) }
        if storage != base {
            // The old block's share of the budget was counted in `extra` already.
            Self.freeBlock(storage, capacity)
        }
        storage = block
        capacity = blockSize
        return true
    }

    /// Frees the large block, if any, and gives its bytes back to the budget. Callers move what
    /// they keep into the base buffer first.
    private func releaseLargeBlock() {
        guard storage != base else { return }
        Self.freeBlock(storage, capacity)
        budget?.giveBack(capacity)
        storage = base
        capacity = initialCapacity
    }

    // MARK: - Large blocks

    /// Blocks from this size on are mapped: `munmap` gives them back to the system at once, where
    /// a freed `malloc` block of that size may stay in the allocator's arena (glibc raises its
    /// mmap threshold after such frees). Smaller ones come from `malloc`, sparing the system calls
    /// and page faults on every medium-sized request.
    static let mappingThreshold = 128 * 1024

    private static func blockSize(for size: Int) -> Int {
        guard size >= mappingThreshold else { return size }
        let page = 4096
        return (size + page - 1) / page * page
    }

    private static func allocateBlock(_ size: Int) -> UnsafeMutableRawPointer? {
        guard size >= mappingThreshold else { return malloc(size) }
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else { return nil }
        return mapped
    }

    private static func freeBlock(_ block: UnsafeMutableRawPointer, _ size: Int) {
        if size >= mappingThreshold { munmap(block, size) } else { free(block) }
    }
}
