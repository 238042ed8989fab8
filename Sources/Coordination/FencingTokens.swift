import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The server-wide sequence of lease and mutex tokens: never 0, strictly increasing, also across
/// restarts, so they serve as fencing tokens for a storage system that remembers the highest one
/// it has seen.
///
/// The sequence starts above both the wall clock in milliseconds shifted left 20 bits (room for a
/// million grants per millisecond of downtime) and, with a state directory, the high-water mark
/// kept there ( ``TokenHighWaterMark``), which covers a wall clock that is behind the previous
/// run's. Tokens are reserved on disk in blocks: the first block before the server starts, each
/// next one on a background thread once half of the current block is used, so a grant waits on a
/// disk write only if a whole half block (half a million grants) goes out during one write.
public final class FencingTokens: @unchecked Sendable {
    private let last: Atomic<UInt64>
    /// Every token up to this is covered by the mark on disk (`.max` without a state directory).
    private let reserved: Atomic<UInt64>
    private let reserving = Atomic<Bool>(false)
    private let mark: TokenHighWaterMark?
    private let blockSize: UInt64
    private let onWriteFailure: @Sendable (TokenStateError) -> Void
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// A sequence starting after `start` with nothing on disk (for tests), or from the wall clock.
    public convenience init(start: UInt64? = nil) {
        // Cannot throw without a state directory.
        try! self.init(stateDirectory: nil, start: start)
    }

    /// A sequence kept above the mark in `stateDirectory` (if any) and the wall-clock floor.
    /// Throws if the mark cannot be read or its first block cannot be written: the caller must
    /// then refuse to start. `onWriteFailure` hears of a later block that could not be written
    /// (grants go on; the wall-clock floor still holds).
    public init(
        stateDirectory: String?, blockSize: UInt64 = 1 << 20,
        wallClockMilliseconds: UInt64 = FencingTokens.wallClockMilliseconds(),
        onWriteFailure: @escaping @Sendable (TokenStateError) -> Void = { _ in }, start: UInt64? = nil
    ) throws {
        precondition(blockSize >= 2, "blocks of at least two tokens")
        self.blockSize = blockSize
        self.onWriteFailure = onWriteFailure
        self.mark = stateDirectory.map(TokenHighWaterMark.init(directory:))
        var first = start ?? (wallClockMilliseconds << 20)
        if let mark {
            first = max(first, try mark.read())
            try mark.write(first + blockSize)
            reserved = Atomic(first + blockSize)
        } else {
            reserved = Atomic(.max)
        }
        last = Atomic(first)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Whether tokens are kept above a mark on disk.
    public var isPersistent: Bool { mark != nil }

    /// The next token.
    public func next() -> UInt64 {
        let token = last.wrappingAdd(1, ordering: .relaxed).newValue
        let covered = reserved.load(ordering: .acquiring)
        if covered != .max {
            if token > covered &- blockSize / 2 { reserveNextBlock() }
            if token > covered { waitUntilCovered(token) }
        }
        return token
    }

    /// The wall clock in milliseconds (the floor of a start without, or behind, a mark).
    public static func wallClockMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

    // MARK: - Reserving blocks

    /// Starts writing the next block on a background thread, unless one is being written.
    private func reserveNextBlock() {
        guard reserving.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            let tokens = Unmanaged<FencingTokens>.fromOpaque(context!).takeRetainedValue()
            tokens.writeNextBlock()
            return nil
        }, context)
        if started == 0 {
            pthread_detach(thread)
        } else {
            // No thread to spare: write it here rather than not at all.
            Unmanaged<FencingTokens>.fromOpaque(context).release()
            writeNextBlock()
        }
    }

    private func writeNextBlock() {
        let target = max(last.load(ordering: .relaxed), reserved.load(ordering: .acquiring)) + blockSize
        do {
            try mark?.write(target)
        } catch let error as TokenStateError {
            onWriteFailure(error)
        } catch {
            onWriteFailure(TokenStateError(description: "\(error)"))
        }
        // Also after a failure: grants must not hang on a full disk.
        pthread_mutex_lock(mutex)
        reserved.store(target, ordering: .releasing)
        reserving.store(false, ordering: .releasing)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Waits for a block being written in the background (a clean stop, and tests).
    public func finishWriting() {
        pthread_mutex_lock(mutex)
        while reserving.load(ordering: .acquiring) { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// The rare case: a whole half block went out during one write.
    private func waitUntilCovered(_ token: UInt64) {
        pthread_mutex_lock(mutex)
        while reserved.load(ordering: .acquiring) < token {
            pthread_mutex_unlock(mutex)
            reserveNextBlock()
            pthread_mutex_lock(mutex)
            if reserved.load(ordering: .acquiring) < token && reserving.load(ordering: .acquiring) {
                pthread_cond_wait(condition, mutex)
            }
        }
        pthread_mutex_unlock(mutex)
    }
}
