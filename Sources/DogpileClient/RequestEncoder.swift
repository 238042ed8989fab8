import NIOCore

/// Builds request bytes for the text protocol: a command line, and a data block for stores.
enum RequestEncoder {
    /// `words` joined by spaces, then `\r\n`.
    static func line(_ words: String...) -> ByteBuffer {
        line(words)
    }

    /// `words` joined by spaces, then `\r\n`.
    static func line(_ words: [String]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString(words.joined(separator: " "))
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// `words... <bytes>\r\n<data>\r\n` (set/add/replace/append/prepend/cas/setgen).
    static func storage(_ words: [String], data: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + 64)
        buffer.writeString(words.joined(separator: " "))
        buffer.writeString(" \(data.count)\r\n")
        buffer.writeBytes(data)
        buffer.writeStaticString("\r\n")
        return buffer
    }
}

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
