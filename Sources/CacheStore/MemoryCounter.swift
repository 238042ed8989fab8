import Synchronization

/// Bytes of linked items across all shards of a store, counted against its memory limit.
final class MemoryCounter: Sendable {
    private let bytes = Atomic<Int>(0)

    /// The current count.
    var value: Int { bytes.load(ordering: .relaxed) }

    /// Adds `delta` (negative when memory is given back).
    @inline(__always)
    func add(_ delta: Int) { bytes.add(delta, ordering: .relaxed) }
}
