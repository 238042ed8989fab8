/// How fresh an item is, judged by a ``Store``'s rules of the moment.
///
/// An item past its exptime, or stored before a soft invalidation, is a *stale copy*: invisible to
/// every classic verb, served only by `lockgen`, and kept for `staleTTL` seconds from the moment it
/// became stale. Past that it is dead and is unlinked when next seen.
struct StalePolicy {
    /// The clock reading.
    let now: UInt32
    /// Seconds a stale copy is kept.
    let staleTTL: UInt32
    /// Items with a CAS unique up to this one were soft-invalidated (0: none).
    let softInvalidatedThrough: UInt64
    /// Every soft invalidation, for the moment each item became stale.
    let history: SoftInvalidations

    enum Freshness { case live, stale, dead }

    @inline(__always)
    func classify(_ item: Item) -> Freshness {
        let header = item.header
        var staleSince = UInt32.max
        if header.exptime != 0 && header.exptime <= now { staleSince = header.exptime }
        // (Without a CAS field, `-C`, soft invalidation moved the exptime instead.)
        if header.hasCAS, header.cas <= softInvalidatedThrough, let since = history.staleSince(cas: header.cas) {
            staleSince = min(staleSince, since)
        }
        if staleSince == .max { return .live }
        return UInt64(staleSince) + UInt64(staleTTL) > UInt64(now) ? .stale : .dead
    }
}

/// What a shard found under a key.
enum Lookup {
    case live(Item)
    case stale(Item)
    case none

    /// The item if it is live.
    @inline(__always)
    var live: Item? {
        if case .live(let item) = self { return item }
        return nil
    }

    /// The linked item, live or stale (the one a store must replace).
    @inline(__always)
    var linked: Item? {
        switch self {
        case .live(let item), .stale(let item): item
        case .none: nil
        }
    }
}

/// What ``Store/generationLookup(_:)`` found, for the dogpile decision.
public enum ValueFreshness: Sendable, Equatable {
    /// A live value.
    case fresh
    /// A live value that this reader drew for early recompute (``EarlyRecomputeDraw``).
    case expiring
    /// A stale copy.
    case stale
    /// Nothing.
    case missing
}
