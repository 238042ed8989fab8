import Synchronization

/// The server-wide bound on buffered input, shared by every connection's ``InputBuffer``.
///
/// Each connection keeps a small base buffer (its cost is bounded by the connection limit, like
/// memcached's per-connection structures). Anything larger (a big `set` still arriving, a long
/// multi-get line, what a parked client pipelines) borrows from this budget and gives it back as
/// soon as the request is consumed or the connection closes. memcached reads a data block into an
/// item inside `-m`; dogpiled buffers it first, so this bound is what keeps half-received requests
/// from growing the process past `-m` plus a known amount.
public final class InputBufferBudget: Sendable {
    /// Bytes beyond the base buffers that may be held at once.
    public let limit: Int
    private let borrowed = Atomic<Int>(0)
    private let held = Atomic<Int>(0)

    /// A budget of `limit` bytes beyond the base buffers.
    public init(limit: Int) {
        self.limit = limit
    }

    /// Every byte held by input buffers, base buffers included (`stats input_buffer_bytes`).
    public var heldBytes: Int { held.load(ordering: .relaxed) }

    /// Bytes borrowed beyond the base buffers.
    public var borrowedBytes: Int { borrowed.load(ordering: .relaxed) }

    /// Takes `count` bytes of the budget; false (and nothing taken) if that would pass the limit.
    func borrow(_ count: Int) -> Bool {
        var current = borrowed.load(ordering: .relaxed)
        while true {
            guard current + count <= limit else { return false }
            let (exchanged, original) = borrowed.compareExchange(
                expected: current, desired: current + count, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
        held.add(count, ordering: .relaxed)
        return true
    }

    /// Returns `count` borrowed bytes.
    func giveBack(_ count: Int) {
        borrowed.subtract(count, ordering: .relaxed)
        held.subtract(count, ordering: .relaxed)
    }

    /// A base buffer of `count` bytes was allocated (counted, never refused).
    func holdBase(_ count: Int) {
        held.add(count, ordering: .relaxed)
    }

    /// A base buffer of `count` bytes was freed.
    func releaseBase(_ count: Int) {
        held.subtract(count, ordering: .relaxed)
    }
}
