import NIOCore

/// One reply of the memcached text protocol (and dogpiled's lock verbs), as far as the load
/// generator needs to know it.
enum ReplyKind: Equatable {
    /// `END` after zero or more `VALUE` blocks: a get (hit when it carried a value).
    case end(hit: Bool)
    case stored
    /// `GEN <token>` (after a stale `VALUE` block or alone): this connection regenerates.
    case generate(token: UInt64)
    /// `HIT` or `STALE` after a `VALUE` block: lockgen answered with a value.
    case lockValue
    case busy
    case notOwner
    /// Any other line (`NOT_STORED`, `SERVER_ERROR ...`, `ERROR`...).
    case other
}

/// Finds complete replies in the bytes read so far. A reply is any number of `VALUE` blocks
/// (header line, data, CRLF) and then one line that is not `VALUE`.
struct ReplyScanner {
    /// The next complete reply, consumed from `buffer`; nil (nothing consumed) until one is whole.
    static func next(in buffer: inout ByteBuffer) -> ReplyKind? {
        var offset = buffer.readerIndex
        var sawValue = false
        while true {
            guard let lineEnd = lineEnd(buffer, from: offset) else { return nil }
            let length = lineEnd - offset
            if startsWith(buffer, at: offset, length: length, "VALUE ") {
                guard let bytes = valueLength(buffer, lineStart: offset, lineEnd: lineEnd) else {
                    buffer.moveReaderIndex(to: lineEnd + 2)
                    return .other
                }
                let next = lineEnd + 2 + bytes + 2
                guard next <= buffer.writerIndex else { return nil }
                offset = next
                sawValue = true
                continue
            }
            let kind = classify(buffer, at: offset, length: length, sawValue: sawValue)
            buffer.moveReaderIndex(to: lineEnd + 2)
            return kind
        }
    }

    private static func classify(_ buffer: ByteBuffer, at offset: Int, length: Int, sawValue: Bool) -> ReplyKind {
        if startsWith(buffer, at: offset, length: length, "END") { return .end(hit: sawValue) }
        if startsWith(buffer, at: offset, length: length, "STORED") { return .stored }
        if startsWith(buffer, at: offset, length: length, "GEN ") {
            var token: UInt64 = 0
            for index in (offset + 4)..<(offset + length) {
                let byte = buffer.getInteger(at: index, as: UInt8.self)!
                guard byte >= 48 && byte <= 57 else { break }
                token = token &* 10 &+ UInt64(byte - 48)
            }
            return .generate(token: token)
        }
        if startsWith(buffer, at: offset, length: length, "HIT") || startsWith(buffer, at: offset, length: length, "STALE") { return .lockValue }
        if startsWith(buffer, at: offset, length: length, "BUSY") { return .busy }
        if startsWith(buffer, at: offset, length: length, "NOT_OWNER") { return .notOwner }
        return .other
    }

    /// Index of the `\r` of the first CRLF at or after `offset`.
    private static func lineEnd(_ buffer: ByteBuffer, from offset: Int) -> Int? {
        guard offset < buffer.writerIndex else { return nil }
        let view = buffer.viewBytes(at: offset, length: buffer.writerIndex - offset)!
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")), newline > view.startIndex else { return nil }
        return newline - 1
    }

    private static func startsWith(_ buffer: ByteBuffer, at offset: Int, length: Int, _ prefix: StaticString) -> Bool {
        guard length >= prefix.utf8CodeUnitCount else { return false }
        return prefix.withUTF8Buffer { expected in
            for index in 0..<expected.count where buffer.getInteger(at: offset + index, as: UInt8.self) != expected[index] {
                return false
            }
            return true
        }
    }

    /// The `<bytes>` field (the fourth) of a `VALUE <key> <flags> <bytes> [<cas>]` line.
    private static func valueLength(_ buffer: ByteBuffer, lineStart: Int, lineEnd: Int) -> Int? {
        var field = 0
        var value = 0
        var inField = false
        for index in lineStart..<lineEnd {
            let byte = buffer.getInteger(at: index, as: UInt8.self)!
            if byte == UInt8(ascii: " ") {
                if inField { field += 1; inField = false }
                if field == 4 { return value }
                continue
            }
            inField = true
            if field == 3 {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
        }
        return field == 3 && inField ? value : nil
    }
}
