/// How `invalidate` ends a region's values.
public enum Invalidation: String, Sendable {
    /// Drop every value and stale copy of the region, and end its leases.
    case hard
    /// Turn every fresh value into a stale copy: `lockgen` serves it while one caller per key
    /// regenerates (a fleet-wide refresh without a stampede).
    case soft
}
