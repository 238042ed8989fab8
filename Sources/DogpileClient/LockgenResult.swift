/// What `lockgen` answered.
public enum LockgenResult: Sendable {
    /// `HIT`: a fresh value.
    case hit(CacheItem)
    /// `STALE`: a stale copy; someone else is regenerating.
    case stale(CacheItem)
    /// `GEN <token>`: regenerate, then ``GenerationLease/store(_:flags:exptime:)`` or
    /// ``GenerationLease/release()``. The lease's ``GenerationLease/staleItem`` is the stale copy
    /// if there was one.
    case generate(GenerationLease)
    /// `BUSY`: someone else held the lease for the whole `wait`.
    case busy
}
