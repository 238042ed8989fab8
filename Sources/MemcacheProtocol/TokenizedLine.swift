/// A command line split into tokens the way memcached splits it.
///
/// memcached separates tokens by runs of spaces only (a tab is part of a token), stops at the first
/// NUL byte, and fills at most ``maximumTokens`` − 1 slots: whatever follows is left as an
/// unprocessed remainder (the get family reads it in further chunks; other verbs fail their token
/// count). ``count`` mirrors memcached's `ntokens`, which includes a terminating empty token, so
/// that token-count rules can be written exactly as memcached states them.
public struct TokenizedLine {
    /// memcached's `MAX_TOKENS`.
    public static let maximumTokens = 24

    /// The tokens, as spans relative to the parsed buffer.
    @usableFromInline
    var spans: InlineArray<24, ByteSpan>

    /// memcached's `ntokens`: the real tokens plus one terminator.
    public private(set) var count: Int

    /// Where the unprocessed remainder starts, if the line had more tokens than fit.
    public private(set) var remainder: Int?

    /// The end of the line's content (its first NUL, or the byte before `\r\n` / `\n`).
    public let end: Int

    /// Tokenizes `buffer[start..<end]`.
    public init(_ buffer: UnsafeRawBufferPointer, start: Int, end lineEnd: Int) {
        var limit = start
        while limit < lineEnd && buffer[limit] != 0 { limit += 1 }
        self.end = limit
        self.spans = InlineArray(repeating: ByteSpan(offset: 0, count: 0))
        self.count = 0
        self.remainder = nil
        var real = 0
        var index = start
        while index < limit {
            while index < limit && buffer[index] == 0x20 { index += 1 }
            if index == limit { break }
            if real == Self.maximumTokens - 1 {
                remainder = index
                break
            }
            let tokenStart = index
            while index < limit && buffer[index] != 0x20 { index += 1 }
            spans[real] = ByteSpan(offset: tokenStart, count: index - tokenStart)
            real += 1
        }
        count = real + 1
    }

    /// The number of real tokens (without the terminator).
    @inlinable
    public var realCount: Int { count - 1 }

    /// The span of token `index` (0 is the command name).
    @inlinable
    public subscript(index: Int) -> ByteSpan {
        spans[index]
    }

    /// Whether the next-to-last slot (memcached's `ntokens - 2`) holds the word `noreply`.
    /// Only the last real token can make a command quiet, as in memcached.
    public func endsWithNoreply(_ buffer: UnsafeRawBufferPointer) -> Bool {
        guard remainder == nil, realCount >= 1 else { return false }
        return Self.equals(buffer, spans[realCount - 1], "noreply")
    }

    /// Compares a token with an ASCII literal.
    @inlinable
    public static func equals(_ buffer: UnsafeRawBufferPointer, _ span: ByteSpan, _ literal: StaticString) -> Bool {
        guard span.count == literal.utf8CodeUnitCount else { return false }
        let pointer = literal.utf8Start
        for index in 0..<span.count where buffer[span.offset + index] != pointer[index] {
            return false
        }
        return true
    }
}
