import Synchronization

/// Bytes of mapped segments across all shards of a store, counted against its memory limit.
final class MemoryCounter: Sendable {
    private let bytes = Atomic<Int>(0)

    /// The current count.
    var value: Int { bytes.load(ordering: .relaxed) }

    /// Adds `delta` (negative when memory is given back).
    @inline(__always)
    func add(_ delta: Int) { bytes.add(delta, ordering: .relaxed) }

    /// Adds `size` if the count stays within `limit`, in one atomic step, so shards mapping
    /// segments at the same time cannot pass the limit together. Returns whether it did.
    func reserve(_ size: Int, within limit: Int) -> Bool {
        var current = bytes.load(ordering: .relaxed)
        while current + size <= limit {
            let (exchanged, original) = bytes.compareExchange(
                expected: current, desired: current + size, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }
}
