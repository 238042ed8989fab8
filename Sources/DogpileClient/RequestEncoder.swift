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
