import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// memcached's coarse clock: seconds since a little before the server started, advanced by a
/// timer. Item expiry is kept on this clock, and protocol exptimes are converted with memcached's
/// `realtime()` rules.
public final class ServerClock: Sendable {
    /// Relative exptimes up to 30 days; anything larger is an absolute Unix time.
    public static let maximumRelativeExptime: Int64 = 60 * 60 * 24 * 30

    /// Unix time at which the clock reads 0.
    public let epoch: Int64
    private let current: Atomic<UInt32>

    /// Starts a clock that reads a couple of seconds at `unixNow`, as memcached's does, so that
    /// "already expired" can be represented by 1.
    public init(unixNow: Int64 = Int64(time(nil))) {
        epoch = unixNow - 2
        current = Atomic(2)
    }

    /// The current reading.

    public var now: UInt32 { current.load(ordering: .relaxed) }

    /// Advances the clock to the wall clock; called once a second by the server.
    public func tick(unixNow: Int64 = Int64(time(nil))) {
        let reading = max(unixNow - epoch, 2)
        current.store(UInt32(truncatingIfNeeded: reading), ordering: .relaxed)
    }

    /// Converts a protocol exptime (seconds) to a clock reading: 0 is never, negative is already
    /// expired, up to 30 days is relative, larger is an absolute Unix time.
    public func expiry(fromProtocol exptime: Int32) -> UInt32 {
        var value = Int64(exptime)
        if value < 0 { value = Self.maximumRelativeExptime + 1 }
        if value == 0 { return 0 }
        if value > Self.maximumRelativeExptime {
            if value <= epoch { return 1 }
            return UInt32(truncatingIfNeeded: value - epoch)
        }
        return UInt32(truncatingIfNeeded: value + Int64(now))
    }

    /// The current reading in milliseconds, to the millisecond (``now`` is whole seconds): for
    /// early recompute, whose windows are often shorter than a second.
    public func nowMilliseconds(unixNowMilliseconds: Int64? = nil) -> Int64 {
        let wall: Int64
        if let unixNowMilliseconds {
            wall = unixNowMilliseconds
        } else {
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            wall = Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
        }
        return wall - epoch * 1000
    }

    /// The Unix time of a clock reading.
    public func unixTime(of reading: UInt32) -> Int64 { epoch + Int64(reading) }
}
