#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds on `CLOCK_MONOTONIC`: leases and waits are measured here, so a wall-clock jump
/// never ends a lease early or late.
public struct MonotonicClock: MillisecondClock {
    /// The system's monotonic clock.
    public init() {}

    /// The current reading.
    public func now() -> Int64 { Self.milliseconds() }

    /// The current reading, without an instance.
    public static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
