/// An ``Item`` kept for later, by an object that holds a reference to its segment for as long
/// as it lives: what the lock tables hand to parked waiters (``PROTOCOL.md`` section 1: the
/// item stored is retained for them, so eviction or a later delete cannot take it away).
public final class HeldItem: @unchecked Sendable {
    /// The item; its bytes stay in place while this object lives.
    public let item: Item

    /// Holds `item`, taking a reference of its own (the caller's stays the caller's).
    public init(_ item: Item) {
        item.retain()
        self.item = item
    }

    deinit { item.release() }
}
