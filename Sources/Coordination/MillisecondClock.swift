/// A monotonic clock in milliseconds, injected into the lock tables so tests decide what time it is.
public protocol MillisecondClock: Sendable {
    /// The current reading; never goes backwards.
    func now() -> Int64
}
