import Coordination
import Synchronization

/// At most one log line per interval for an event a client can repeat at will (a connection
/// opening with a binary-protocol byte, say): the lines in between are only counted, and the
/// next line that is written carries that count. One client can then no longer flood the log.
public final class LogRateLimiter: Sendable {
    private let intervalMilliseconds: Int64
    /// The monotonic time from which the next line may be written.
    private let nextLine = Atomic<Int64>(Int64.min)
    private let suppressed = Atomic<Int>(0)

    /// A limiter allowing one line per `intervalMilliseconds`.
    public init(intervalMilliseconds: Int64) {
        self.intervalMilliseconds = intervalMilliseconds
    }

    /// Runs `log` with the number of events suppressed since the previous line if a line is due
    /// at `now` (monotonic milliseconds); otherwise counts this event as suppressed.
    public func record(now: Int64 = MonotonicClock.milliseconds(), _ log: (_ suppressed: Int) -> Void) {
        let due = nextLine.load(ordering: .relaxed)
        if now >= due, nextLine.compareExchange(expected: due, desired: now + intervalMilliseconds, ordering: .relaxed).exchanged {
            log(suppressed.exchange(0, ordering: .relaxed))
        } else {
            suppressed.add(1, ordering: .relaxed)
        }
    }
}
