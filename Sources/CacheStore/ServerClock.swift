import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// memcached's coarse clock: seconds since a little before the server started, advanced by a
/// timer. Item expiry is kept on this clock, and protocol exptimes are converted with memcached's
/// `realtime()` rules.
///
/// As memcached's, it advances with `CLOCK_MONOTONIC`: a wall-clock step (NTP, a VM restore,
/// an operator) neither expires every item at once nor keeps them forever. The wall clock is read
/// once, at start, and only converts absolute exptimes (and reports `time`).
public final class ServerClock: Sendable {
    /// Relative exptimes up to 30 days; anything larger is an absolute Unix time.
    public static let maximumRelativeExptime: Int64 = 60 * 60 * 24 * 30

    /// Unix time at which the clock reads 0.
    public let epoch: Int64
    private let current: Atomic<UInt32>
    /// `CLOCK_MONOTONIC` milliseconds when the reading last changed.
    private let tickedAt = Atomic<Int64>(ServerClock.monotonicMilliseconds())
    private let monotonicSeconds: @Sendable () -> Int64
    private let monotonicStart: Int64

    /// Starts a clock that reads a couple of seconds at `unixNow`, as memcached's does, so that
    /// "already expired" can be represented by 1. `monotonicSeconds` is the clock it advances
    /// with (injected by tests).
    public init(unixNow: Int64 = Int64(time(nil)), monotonicSeconds: @escaping @Sendable () -> Int64 = ServerClock.monotonicSeconds) {
        epoch = unixNow - 2
        current = Atomic(2)
        self.monotonicSeconds = monotonicSeconds
        monotonicStart = monotonicSeconds()
    }

    /// The current reading.
    public var now: UInt32 { current.load(ordering: .relaxed) }

    /// Advances the clock by the monotonic time since start; called once a second by the server.
    public func tick() {
        advance(toElapsed: monotonicSeconds() - monotonicStart)
    }

    /// Sets the clock as if `unixNow - start` seconds had passed (tests drive time this way).
    public func tick(unixNow: Int64) {
        advance(toElapsed: unixNow - (epoch + 2))
    }

    private func advance(toElapsed elapsed: Int64) {
        let reading = UInt32(truncatingIfNeeded: max(elapsed + 2, 2))
        if reading != current.load(ordering: .relaxed) {
            tickedAt.store(ServerClock.monotonicMilliseconds(), ordering: .relaxed)
        }
        current.store(reading, ordering: .relaxed)
    }

    /// Seconds on `CLOCK_MONOTONIC`.
    @Sendable public static func monotonicSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec)
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

    /// The current reading in milliseconds: whole seconds from ``now`` plus the milliseconds since
    /// the tick that set it (at most 999), so it agrees with ``now``, the clock items expire on, and
    /// never runs ahead of it when a tick is late. Early recompute needs it: its windows are often
    /// shorter than a second.
    public func nowMilliseconds() -> Int64 {
        let sinceTick = min(max(ServerClock.monotonicMilliseconds() - tickedAt.load(ordering: .relaxed), 0), 999)
        return Int64(now) * 1000 + sinceTick
    }

    /// Milliseconds on `CLOCK_MONOTONIC`.
    static func monotonicMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// The Unix time of a clock reading.
    public func unixTime(of reading: UInt32) -> Int64 { epoch + Int64(reading) }
}
