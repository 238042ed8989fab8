#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time as seconds since the Unix epoch: the scale of dogpile's `time.time()`,
/// which creation times handed to ``Lock`` are expected to use.
enum EpochClock {
    /// The current time in seconds since 1970-01-01T00:00:00Z.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1_000_000_000
    }
}
