#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An incremental, allocation-free decoder of the memcached text protocol.
///
/// Feed it the connection's unconsumed input; it answers with one ``ParseResult`` at a time. It
/// keeps only a little state between calls: a storage line waiting for its data block, or the
/// number of bytes still to swallow after a refused request. Spans in the commands it returns are
/// relative to the start of the buffer passed to the same call, and stay valid until the caller
/// drops the consumed bytes.
///
/// The acceptance rules reproduce memcached 1.6.18's `process_command_ascii`: the same token-count
/// checks per verb, the same number parsing, the same order of checks, the same error lines.
public struct TextParser {
    /// Limits the parser enforces.
    public struct Limits: Sendable {
        /// Longest key, in bytes.
        public var maximumKeyLength: Int = 250
        /// Bytes buffered without a newline before a non-`get` connection is closed.
        public var maximumLineWithoutNewline: Int = 2048
        /// The item size limit (`-I`), counted the way memcached counts it.
        public var itemSizeLimit: Int = 1024 * 1024
        /// Whether `flush_all` is allowed (memcached's `-F` turns it off).
        public var flushEnabled = true

        /// The default limits of memcached.
        public init() {}

        /// memcached's item header, CAS field and flags suffix, counted against `-I`.
        public func itemFits(keyLength: Int, flags: UInt32, valueLength: Int) -> Bool {
            let total = 48 + keyLength + 1 + valueLength + 2 + (flags == 0 ? 0 : 4) + 8
            return total <= itemSizeLimit
        }
    }

    enum State {
        case idle
        case awaitingData(StorageRequest, total: Int)
        case awaitingMetaData(MetaRequest, total: Int)
        case swallowing(remaining: Int)
    }

    /// The limits in force.
    public var limits: Limits
    var state: State = .idle
    var atConnectionStart = true

    /// Creates a parser for a new connection.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Decodes the next request from `buffer`, the connection's unconsumed input.
    public mutating func parse(_ buffer: UnsafeRawBufferPointer) -> ParseResult {
        switch state {
        case .swallowing(let remaining):
            let count = min(remaining, buffer.count)
            if count == 0 { return .needMoreData(bufferSize: 0) }
            state = remaining == count ? .idle : .swallowing(remaining: remaining - count)
            return .skipped(consumed: count)
        case .awaitingData(let request, let total):
            return finishStorage(request, total: total, buffer)
        case .awaitingMetaData(let request, let total):
            return finishMetaSet(request, total: total, buffer)
        case .idle:
            return parseLine(buffer)
        }
    }

    private mutating func parseLine(_ buffer: UnsafeRawBufferPointer) -> ParseResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .needMoreData(bufferSize: 0) }
        if atConnectionStart {
            atConnectionStart = false
            if buffer[0] == 0x80 { return .command(.close(.binaryProtocol), consumed: 0) }
        }
        guard let newline = memchr(base, 0x0A, buffer.count) else {
            if buffer.count > limits.maximumLineWithoutNewline && !startsMultiGet(buffer) {
                return .command(.close(.lineTooLong), consumed: 0)
            }
            return .needMoreData(bufferSize: 0)
        }
        let newlineIndex = base.distance(to: UnsafeRawPointer(newline))
        let consumed = newlineIndex + 1
        var contentEnd = newlineIndex
        if newlineIndex > 1 && buffer[newlineIndex - 1] == 0x0D { contentEnd -= 1 }
        let tokens = TokenizedLine(buffer, start: 0, end: contentEnd)
        return dispatch(tokens, buffer, consumed: consumed)
    }

    /// memcached lets an unterminated line grow only when it is a large multi-get (dogpiled's
    /// multi-key `mlockgen` too).
    private func startsMultiGet(_ buffer: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < buffer.count && buffer[index] == 0x20 { index += 1 }
        if index > 100 { return false }
        let rest = UnsafeRawBufferPointer(rebasing: buffer[index...])
        return Self.hasPrefix(rest, "get ") || Self.hasPrefix(rest, "gets ") || Self.hasPrefix(rest, "mlockgen ")
    }

    private static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
        return memcmp(bytes.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
    }

    // MARK: - Storage

    mutating func beginStorage(
        _ verb: StorageVerb, _ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer, consumed: Int
    ) -> ParseResult {
        let noreply = tokens.endsWithNoreply(buffer)
        let key = tokens[1]
        guard key.count <= limits.maximumKeyLength else {
            return .command(.failure(.badFormat, noreply: noreply), consumed: consumed)
        }
        // setgen carries its lease token before the usual fields.
        let shift = verb == .setgen ? 1 : 0
        var unique: UInt64 = 0
        if verb == .setgen {
            guard let token = NumberParsing.parseUInt64(tokens[2].bytes(in: buffer)) else {
                return .command(.failure(.badFormat, noreply: noreply), consumed: consumed)
            }
            unique = token
        }
        guard let flags = NumberParsing.parseUInt32(tokens[2 + shift].bytes(in: buffer)),
              let exptime = NumberParsing.parseInt32(tokens[3 + shift].bytes(in: buffer)),
              let length = NumberParsing.parseInt32(tokens[4 + shift].bytes(in: buffer))
        else {
            return .command(.failure(.badFormat, noreply: noreply), consumed: consumed)
        }
        if verb == .cas {
            guard let value = NumberParsing.parseUInt64(tokens[5].bytes(in: buffer)) else {
                return .command(.failure(.badFormat, noreply: noreply), consumed: consumed)
            }
            unique = value
        }
        guard length >= 0, length <= Int32.max - 2 else {
            return .command(.failure(.badFormat, noreply: noreply), consumed: consumed)
        }
        let valueLength = Int(length)
        guard limits.itemFits(keyLength: key.count, flags: flags, valueLength: valueLength) else {
            state = .swallowing(remaining: valueLength + 2)
            return .command(.tooLarge(key: key, verb: verb, noreply: noreply), consumed: consumed)
        }
        let request = StorageRequest(
            verb: verb, key: key, flags: flags, exptime: exptime, unique: unique,
            data: ByteSpan(offset: consumed, count: valueLength), noreply: noreply)
        return finishStorage(request, total: consumed + valueLength + 2, buffer)
    }

    private mutating func finishStorage(
        _ request: StorageRequest, total: Int, _ buffer: UnsafeRawBufferPointer
    ) -> ParseResult {
        guard buffer.count >= total else {
            state = .awaitingData(request, total: total)
            return .needMoreData(bufferSize: total)
        }
        state = .idle
        guard buffer[total - 2] == 0x0D, buffer[total - 1] == 0x0A else {
            return .command(.badDataChunk(noreply: request.noreply), consumed: total)
        }
        return .command(.storage(request), consumed: total)
    }
}
