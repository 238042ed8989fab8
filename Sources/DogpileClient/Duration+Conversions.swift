import NIOCore

/// Conversions of `Duration` to what the protocol and swift-nio take (milliseconds, seconds, TimeAmount).
extension Duration {
    /// Whole milliseconds, rounded up, at least `minimum`.
    func milliseconds(minimum: Int64 = 0) -> Int64 {
        let (seconds, attoseconds) = components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return max(minimum, millis)
    }

    /// The same span as a swift-nio `TimeAmount`.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Seconds, rounded up (memcached exptimes).
    var wholeSecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        return attoseconds > 0 ? seconds + 1 : seconds
    }
}
