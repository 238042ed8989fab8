// No Foundation and no NIO here: this file and the reply types build on their own (Fuzz/).

/// Turns bytes from a dogpiled connection into ``Reply`` values, with no I/O.
///
/// Feed it the bytes received so far, starting at the first byte of the reply not yet decoded.
/// It answers ``Step/needMoreBytes`` (call again with the same bytes and more after them),
/// ``Step/reply(_:consumed:)`` (drop `consumed` bytes, the next reply starts there), or
/// ``Step/invalid(_:)`` (the stream is not the text protocol; close the connection).
///
/// Between calls for one reply the decoder remembers the `VALUE` blocks and `STAT` lines it has
/// already read, so a long multi-get arriving in many pieces is scanned once.
///
/// ```swift
/// var decoder = ReplyDecoder()
/// let step = decoder.decode(Array("VALUE k 0 2 7\r\nhi\r\nHIT\r\n".utf8))
/// // .reply(.values([CacheItem(key: "k", flags: 0, data: [104, 105], cas: 7)], .hit), consumed: 25)
/// ```
public struct ReplyDecoder: Sendable {
    /// What one call to ``decode(_:)-([UInt8])`` found.
    public enum Step: Sendable, Equatable {
        /// The reply is not complete yet.
        case needMoreBytes
        /// A whole reply, which used the first `consumed` bytes.
        case reply(Reply, consumed: Int)
        /// The bytes are not a reply of the text protocol.
        case invalid(String)
    }

    /// The longest line accepted before its `\n` (a `VALUE` line is at most ~300 bytes).
    public static let maximumLineLength = 8192
    /// The largest data block accepted in a `VALUE` line (memcached's item limit is at most 1 GiB).
    public static let maximumValueLength = 1 << 30

    /// What the next reply is: set it before each call, from the request the reply answers.
    public enum Mode: Sendable, Equatable {
        /// Any reply but `mlockgen`'s (each is told apart by its first line).
        case reply
        /// `mlockgen`'s blocks up to `END` (``Reply/lockgenBlocks(_:)``), or an error line for
        /// the whole request.
        case lockgenBlocks
    }

    /// What the reply being decoded is. Keep it the same until the reply is complete;
    /// ``reset()`` leaves it as it is.
    public var mode: Mode = .reply

    private var values: [CacheItem] = []
    private var stats: [ReplyStat] = []
    /// `mlockgen`: the blocks read so far, and a `VALUE` read whose end line has not come yet.
    var blocks: [LockgenBlock] = []
    var blockItem: CacheItem?
    /// Where to resume in the current reply's bytes: past the blocks already in `values`/`stats`.
    var resume = 0

    /// A decoder at the start of a reply.
    public init() {}

    /// Forgets a partly read reply (after the connection was reset).
    public mutating func reset() {
        values = []
        stats = []
        blocks = []
        blockItem = nil
        resume = 0
    }

    /// Decodes from `bytes`, which must start where the current reply starts.
    public mutating func decode(_ bytes: [UInt8]) -> Step {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// Decodes from `bytes`, which must start where the current reply starts.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) -> Step {
        if mode == .lockgenBlocks { return decodeLockgenBlocks(bytes) }
        var offset = resume
        while true {
            let line: UnsafeRawBufferPointer
            let next: Int
            switch Self.scanLine(bytes, from: offset) {
            case .needMoreBytes:
                resume = offset
                return .needMoreBytes
            case .tooLong:
                return finish(.invalid("a line longer than \(Self.maximumLineLength) bytes"))
            case .line(let found, let after):
                line = found
                next = after
            }

            if Self.hasPrefix(line, "VALUE ") {
                guard stats.isEmpty else { return finish(.invalid("VALUE inside a stats reply")) }
                switch Self.valueBlock(line, in: bytes, dataStart: next) {
                case .needMoreBytes:
                    resume = offset
                    return .needMoreBytes
                case .invalid(let reason):
                    return finish(.invalid(reason))
                case .item(let item, let after):
                    values.append(item)
                    offset = after
                    continue
                }
            }
            if Self.hasPrefix(line, "STAT ") {
                guard values.isEmpty else { return finish(.invalid("STAT inside a VALUE reply")) }
                stats.append(Self.statLine(line))
                offset = next
                continue
            }
            if !stats.isEmpty {
                if Self.equals(line, "END") { return finish(.reply(.stats(stats), consumed: next)) }
                if let error = Self.errorReply(line) { return finish(.reply(error, consumed: next)) }
                return finish(.invalid("an unexpected line in a stats reply"))
            }
            if let end = Self.valuesEnd(line) {
                return finish(.reply(.values(values, end), consumed: next))
            }
            if let error = Self.errorReply(line) {
                // An error line ends the reply, even after some VALUE blocks (memcached does so).
                return finish(.reply(error, consumed: next))
            }
            guard values.isEmpty else { return finish(.invalid("an unexpected line after VALUE blocks")) }
            guard let single = Self.singleLine(line) else {
                return finish(.invalid("an unknown reply line"))
            }
            return finish(.reply(single, consumed: next))
        }
    }

    mutating func finish(_ step: Step) -> Step {
        reset()
        return step
    }

    // MARK: - Lines

    private struct ValueHeader {
        var key: String
        var flags: UInt32
        var length: Int
        var cas: UInt64?
    }

    enum LineScan {
        case line(UnsafeRawBufferPointer, next: Int)
        case needMoreBytes
        case tooLong
    }

    /// The line starting at `offset`, without its `\r\n` (or bare `\n`), and where the next starts.
    static func scanLine(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> LineScan {
        guard let newline = index(of: 0x0A, in: bytes, from: offset) else {
            return bytes.count - offset > maximumLineLength ? .tooLong : .needMoreBytes
        }
        if newline - offset > maximumLineLength { return .tooLong }
        var lineEnd = newline
        if lineEnd > offset && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        return .line(UnsafeRawBufferPointer(rebasing: bytes[offset..<lineEnd]), next: newline + 1)
    }

    enum ValueScan {
        case item(CacheItem, next: Int)
        case needMoreBytes
        case invalid(String)
    }

    /// A `VALUE` line and its data block, which starts at `dataStart`.
    static func valueBlock(_ line: UnsafeRawBufferPointer, in bytes: UnsafeRawBufferPointer, dataStart: Int) -> ValueScan {
        guard let header = valueHeader(line) else { return .invalid("a malformed VALUE line") }
        let dataEnd = dataStart + header.length
        guard bytes.count >= dataEnd + 2 else { return .needMoreBytes }
        guard bytes[dataEnd] == 0x0D, bytes[dataEnd + 1] == 0x0A else {
            return .invalid("a data block not ended by \\r\\n")
        }
        let data = Array(UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataEnd]))
        return .item(CacheItem(key: header.key, flags: header.flags, data: data, cas: header.cas), next: dataEnd + 2)
    }

    /// `VALUE <key> <flags> <bytes> [<cas>]`.
    private static func valueHeader(_ line: UnsafeRawBufferPointer) -> ValueHeader? {
        let tokens = tokenize(line)
        guard tokens.count == 4 || tokens.count == 5 else { return nil }
        guard let flags = number(line, tokens[2]), flags <= UInt64(UInt32.max),
              let length = number(line, tokens[3]), length <= UInt64(maximumValueLength) else { return nil }
        var cas: UInt64?
        if tokens.count == 5 {
            guard let value = number(line, tokens[4]) else { return nil }
            cas = value
        }
        return ValueHeader(key: text(line, tokens[1]), flags: UInt32(flags), length: Int(length), cas: cas)
    }

    /// `STAT <name> <value...>`: the value is the rest of the line, possibly empty.
    private static func statLine(_ line: UnsafeRawBufferPointer) -> ReplyStat {
        var nameStart = 5
        while nameStart < line.count && line[nameStart] == 0x20 { nameStart += 1 }
        var nameEnd = nameStart
        while nameEnd < line.count && line[nameEnd] != 0x20 { nameEnd += 1 }
        let valueStart = min(nameEnd + 1, line.count)
        return ReplyStat(name: text(line, nameStart..<nameEnd), value: text(line, valueStart..<line.count))
    }

    /// `END`, `HIT`, `STALE`, `GEN <token>`.
    static func valuesEnd(_ line: UnsafeRawBufferPointer) -> ReplyValuesEnd? {
        if equals(line, "END") { return .end }
        if equals(line, "HIT") { return .hit }
        if equals(line, "STALE") { return .stale }
        let tokens = tokenize(line)
        if tokens.count == 2, equals(UnsafeRawBufferPointer(rebasing: line[tokens[0]]), "GEN"),
           let token = number(line, tokens[1]) {
            return .generate(token: token)
        }
        return nil
    }

    /// `ERROR`, `CLIENT_ERROR <message>`, `SERVER_ERROR <message>`.
    static func errorReply(_ line: UnsafeRawBufferPointer) -> Reply? {
        if equals(line, "ERROR") || hasPrefix(line, "ERROR ") { return .error }
        if hasPrefix(line, "CLIENT_ERROR") { return .clientError(message(line, after: 12)) }
        if hasPrefix(line, "SERVER_ERROR") { return .serverError(message(line, after: 12)) }
        return nil
    }

    /// Status words, `LOCKED <token>`, `VERSION <text>`, a bare number.
    private static func singleLine(_ line: UnsafeRawBufferPointer) -> Reply? {
        let tokens = tokenize(line)
        guard let first = tokens.first else { return nil }
        let word = UnsafeRawBufferPointer(rebasing: line[first])
        if hasPrefix(line, "VERSION ") { return .version(message(line, after: 7)) }
        if tokens.count == 2, equals(word, "LOCKED"), let token = number(line, tokens[1]) {
            return .locked(token: token)
        }
        if tokens.count == 1 {
            for status in ReplyStatus.allCases where equals(word, status.rawValue) {
                return .status(status)
            }
            if let value = number(line, first) { return .number(value) }
        }
        return nil
    }

    // MARK: - Bytes

    static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// Token ranges, separated by runs of spaces.
    static func tokenize(_ line: UnsafeRawBufferPointer) -> [Range<Int>] {
        var tokens: [Range<Int>] = []
        var index = 0
        while index < line.count {
            while index < line.count && line[index] == 0x20 { index += 1 }
            let start = index
            while index < line.count && line[index] != 0x20 { index += 1 }
            if index > start { tokens.append(start..<index) }
        }
        return tokens
    }

    /// A decimal UInt64 with no sign, or nil.
    static func number(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64? {
        guard !range.isEmpty else { return nil }
        var value: UInt64 = 0
        for index in range {
            let byte = line[index]
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    private static func text(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: line[range]), as: UTF8.self)
    }

    /// The text after the first `count` bytes, without the separating space(s).
    static func message(_ line: UnsafeRawBufferPointer, after count: Int) -> String {
        var start = min(count, line.count)
        while start < line.count && line[start] == 0x20 { start += 1 }
        return text(line, start..<line.count)
    }

    static func hasPrefix(_ line: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard line.count >= count else { return false }
        let start = prefix.utf8Start
        for index in 0..<count where line[index] != start[index] { return false }
        return true
    }

    static func equals(_ line: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        line.count == word.utf8CodeUnitCount && hasPrefix(line, word)
    }

    static func equals(_ line: UnsafeRawBufferPointer, _ word: String) -> Bool {
        var word = word
        return word.withUTF8 { utf8 in
            line.count == utf8.count && zip(line, utf8).allSatisfy { $0 == $1 }
        }
    }
}
