import Synchronization

/// The soft invalidations of a store, so each stale copy keeps the stale window of the
/// invalidation that made it stale: a second `invalidate ... soft` must not extend (or revive)
/// the window of items the first one already made stale.
///
/// Each entry says "items with a CAS unique up to `through` became stale at `at`". Readers look
/// here only for items at or below the latest `through` (an atomic the store checks first), so the
/// request path pays nothing when there has been no soft invalidation.
final class SoftInvalidations: Sendable {
    /// Entries kept; beyond this the oldest are merged into the next one (their items then count
    /// as stale from slightly later, a bounded and rare imprecision).
    static let capacity = 64

    private let entries = Mutex<[(through: UInt64, at: UInt32)]>([])

    /// Records an invalidation of every item up to `through`, at clock reading `at`.
    func record(through: UInt64, at: UInt32) {
        entries.withLock { list in
            if let last = list.last, last.through >= through { return }
            list.append((through, at))
            if list.count > Self.capacity { list.removeFirst() }
        }
    }

    /// When the item with CAS unique `cas` became stale by soft invalidation (nil: it did not).
    func staleSince(cas: UInt64) -> UInt32? {
        entries.withLock { list in
            for entry in list where cas <= entry.through { return entry.at }
            return nil
        }
    }
}
