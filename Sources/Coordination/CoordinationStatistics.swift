import Synchronization

/// The stampede counters of PROTOCOL.md section 4.
public final class CoordinationStatistics: Sendable {
    /// `lockgen` answered with a fresh value (at once, or after waiting for a store).
    public let lockgenHits = Atomic<UInt64>(0)
    /// `lockgen` answered `STALE`.
    public let lockgenStale = Atomic<UInt64>(0)
    /// `GEN` grants (at once or after waiting).
    public let lockgenGen = Atomic<UInt64>(0)
    /// `lockgen` requests that waited.
    public let lockgenWaits = Atomic<UInt64>(0)
    /// `lockgen` waits that ended in `BUSY`.
    public let lockgenTimeouts = Atomic<UInt64>(0)
    /// `GEN` grants on a fresh value near its expiry (early recompute).
    public let lockgenEarly = Atomic<UInt64>(0)
    /// Early regenerations stored while the value they replace was still fresh: the stampede
    /// that early recompute exists to avoid did not happen.
    public let lockgenEarlyBeatExpiry = Atomic<UInt64>(0)
    /// Generation leases that ran out.
    public let leasesExpired = Atomic<UInt64>(0)
    /// Mutex grants.
    public let mutexLocked = Atomic<UInt64>(0)
    /// Mutex requests that waited.
    public let mutexWaits = Atomic<UInt64>(0)
    /// Mutex waits that ended in `BUSY`.
    public let mutexTimeouts = Atomic<UInt64>(0)
    /// Mutex holds that ran out.
    public let mutexExpired = Atomic<UInt64>(0)

    /// All zero.
    public init() {}

    /// Every counter back to zero (`stats reset`).
    public func reset() {
        // Atomics are not copyable: no array of them to loop over.
        lockgenHits.store(0, ordering: .relaxed)
        lockgenStale.store(0, ordering: .relaxed)
        lockgenGen.store(0, ordering: .relaxed)
        lockgenWaits.store(0, ordering: .relaxed)
        lockgenTimeouts.store(0, ordering: .relaxed)
        lockgenEarly.store(0, ordering: .relaxed)
        lockgenEarlyBeatExpiry.store(0, ordering: .relaxed)
        leasesExpired.store(0, ordering: .relaxed)
        mutexLocked.store(0, ordering: .relaxed)
        mutexWaits.store(0, ordering: .relaxed)
        mutexTimeouts.store(0, ordering: .relaxed)
        mutexExpired.store(0, ordering: .relaxed)
    }

    /// The counters by their `stats` names, in PROTOCOL.md's order.
    public var all: [(String, UInt64)] {
        [
            ("lockgen_hits", lockgenHits.load(ordering: .relaxed)),
            ("lockgen_stale", lockgenStale.load(ordering: .relaxed)),
            ("lockgen_gen", lockgenGen.load(ordering: .relaxed)),
            ("lockgen_waits", lockgenWaits.load(ordering: .relaxed)),
            ("lockgen_timeouts", lockgenTimeouts.load(ordering: .relaxed)),
            ("lockgen_early", lockgenEarly.load(ordering: .relaxed)),
            ("lockgen_early_beat_expiry", lockgenEarlyBeatExpiry.load(ordering: .relaxed)),
            ("leases_expired", leasesExpired.load(ordering: .relaxed)),
            ("mutex_locked", mutexLocked.load(ordering: .relaxed)),
            ("mutex_waits", mutexWaits.load(ordering: .relaxed)),
            ("mutex_timeouts", mutexTimeouts.load(ordering: .relaxed)),
            ("mutex_expired", mutexExpired.load(ordering: .relaxed)),
        ]
    }
}

extension Atomic where Value == UInt64 {
    /// Adds one.
    @inline(__always)
    public func increment() { wrappingAdd(1, ordering: .relaxed) }
}
