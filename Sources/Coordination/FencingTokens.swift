import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The server-wide sequence of lease and mutex tokens.
///
/// Tokens are never 0 and strictly increase, also across restarts: the sequence starts at the
/// wall clock in milliseconds shifted left 20 bits, which leaves room for a million grants per
/// millisecond of downtime before a restarted server could repeat a number. That makes them usable
/// as fencing tokens by a storage system that remembers the highest one it has seen.
public final class FencingTokens: Sendable {
    private let last: Atomic<UInt64>

    /// Starts the sequence from the wall clock (or from `start`, for tests).
    public init(start: UInt64? = nil) {
        if let start {
            last = Atomic(start)
        } else {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let milliseconds = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
            last = Atomic(milliseconds << 20)
        }
    }

    /// The next token.
    public func next() -> UInt64 {
        last.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
