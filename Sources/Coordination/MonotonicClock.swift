#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds on the monotonic clock: leases and waits are measured here, so a wall-clock jump
/// never ends a lease early or late.
public enum MonotonicClock {
    /// The current reading.
    public static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
