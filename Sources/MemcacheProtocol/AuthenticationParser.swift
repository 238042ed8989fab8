/// memcached's ASCII authentication (`-Y <authfile>`): what a connection that has not yet
/// authenticated sends, decoded. Sans-I/O and stateless: it looks at the buffered bytes and says
/// what the request is, or how many more bytes it needs.
///
/// The one request that counts is `set <key> <flags> <exptime> <bytes>\r\n<user> <pass>\r\n`: the
/// key, flags and exptime are ignored; the data's first two space-separated words are the user
/// and the password. Every other line is refused with `CLIENT_ERROR unauthenticated`, whatever
/// the verb (`quit`, the meta commands and the lock verbs included), as memcached 1.6.18's
/// `try_read_command_asciiauth` does.
public enum AuthenticationParser {
    /// Lines longer than this without a newline close the connection (memcached: 2048).
    public static let maximumLineBytes = 2048
    /// The data block must fit in memcached's 16 KB read buffer; a longer one closes the
    /// connection once the buffer is full (nothing is answered).
    public static let maximumDataBytes = 16 * 1024

    /// What the buffered bytes hold.
    public enum Outcome: Equatable {
        /// The request is incomplete; `total` buffered bytes are needed (0: unknown, a line).
        case needMoreData(total: Int)
        /// The connection is to be closed without a reply (no newline in 2048 bytes, or data
        /// larger than the read buffer).
        case close
        /// Not the authentication `set`: answer `CLIENT_ERROR unauthenticated`.
        case unauthenticated(consumed: Int)
        /// The data block does not end in `\r\n`: `CLIENT_ERROR bad command line termination`.
        case badTermination(consumed: Int)
        /// The data has fewer than two words: `CLIENT_ERROR bad authentication token format`.
        case badTokenFormat(consumed: Int)
        /// A user and a password to check (ranges into the buffer).
        case credentials(user: Range<Int>, password: Range<Int>, consumed: Int)
    }

    /// Decodes the request at the start of `buffer`.
    public static func parse(_ buffer: UnsafeRawBufferPointer) -> Outcome {
        // memcached waits for two bytes before it looks for a newline.
        guard buffer.count >= 2 else { return .needMoreData(total: 0) }
        guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
            return buffer.count > maximumLineBytes ? .close : .needMoreData(total: 0)
        }
        let lineEnd = newline + 1
        // Words split on spaces only; the `\r` stays on the last one, where the number parse
        // stops at it, as memcached's tokenizer and strtoul do.
        var words = WordScanner(buffer, range: 0..<newline)
        let verb = words.next()
        _ = words.next()
        _ = words.next()
        _ = words.next()
        guard let verb, buffer.matches(verb, "set"), let sizeWord = words.next(),
              let size = parseSize(buffer, sizeWord) else {
            return .unauthenticated(consumed: lineEnd)
        }
        // memcached adds 2 in 32 bits: sizes near 2^32 wrap (to a block of 0 or 1 bytes).
        let blockLength = Int(size &+ 2)
        guard blockLength >= 2 else {
            return buffer.count - lineEnd >= blockLength ? .badTermination(consumed: lineEnd + blockLength) : .needMoreData(total: lineEnd + blockLength)
        }
        let total = lineEnd + blockLength
        if blockLength > maximumDataBytes {
            // Never fits memcached's read buffer: it closes once the buffer is full.
            return buffer.count - lineEnd >= maximumDataBytes ? .close : .needMoreData(total: lineEnd + maximumDataBytes)
        }
        guard buffer.count >= total else { return .needMoreData(total: total) }
        guard buffer[total - 2] == UInt8(ascii: "\r"), buffer[total - 1] == UInt8(ascii: "\n") else {
            return .badTermination(consumed: total)
        }
        // The payload ends at its first NUL, as a C string would.
        var payloadEnd = total - 2
        if let nul = buffer[lineEnd..<payloadEnd].firstIndex(of: 0) { payloadEnd = nul }
        var payload = WordScanner(buffer, range: lineEnd..<payloadEnd)
        guard let user = payload.next(), let password = payload.next() else {
            return .badTokenFormat(consumed: total)
        }
        return .credentials(user: user, password: password, consumed: total)
    }

    /// strtoul as memcached's `safe_strtoul` applies it: an optional sign, digits, then a
    /// space-like byte (the line's `\r`) or the end; out of range or negative is refused, and
    /// the value is kept in 32 bits as memcached stores it.
    private static func parseSize(_ buffer: UnsafeRawBufferPointer, _ word: Range<Int>) -> UInt32? {
        var value: UInt64 = 0
        var index = word.lowerBound
        var negative = false
        if index < word.upperBound && (buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-")) {
            negative = buffer[index] == UInt8(ascii: "-")
            index += 1
        }
        let digitsStart = index
        while index < word.upperBound, buffer[index] >= UInt8(ascii: "0"), buffer[index] <= UInt8(ascii: "9") {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = product.addingReportingOverflow(UInt64(buffer[index] &- UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }  // ERANGE
            value = sum
            index += 1
        }
        guard index > digitsStart else { return nil }
        if index < word.upperBound {
            let next = buffer[index]
            guard next == UInt8(ascii: "\r") || next == UInt8(ascii: "\t") || next == 0x0B || next == 0x0C else { return nil }
        }
        if negative {
            // strtoul negates in unsigned arithmetic; memcached refuses the result only when it
            // looks negative as a signed number.
            value = 0 &- value
            if Int64(bitPattern: value) < 0 { return nil }
        }
        return UInt32(truncatingIfNeeded: value)
    }
}

/// Space-separated words of a byte range, memcached's tokenizer without the copying.
private struct WordScanner {
    let buffer: UnsafeRawBufferPointer
    var index: Int
    let end: Int

    init(_ buffer: UnsafeRawBufferPointer, range: Range<Int>) {
        self.buffer = buffer
        self.index = range.lowerBound
        self.end = range.upperBound
    }

    mutating func next() -> Range<Int>? {
        while index < end && buffer[index] == UInt8(ascii: " ") { index += 1 }
        guard index < end else { return nil }
        let start = index
        while index < end && buffer[index] != UInt8(ascii: " ") { index += 1 }
        return start..<index
    }
}

extension UnsafeRawBufferPointer {
    fileprivate func matches(_ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        for offset in 0..<range.count where self[range.lowerBound + offset] != text.utf8Start[offset] {
            return false
        }
        return true
    }
}
