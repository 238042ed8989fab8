/// memcached 1.6.18's meta commands: `mg`, `ms`, `md`, `ma`, `me`, `mn`. The checks and their
/// order are those of `process_mget_command`, `process_mset_command`,
/// `process_mdelete_command`, `process_marithmetic_command` and `process_meta_command`; every
/// error line is decided here, except the few memcached only finds while writing a reply after
/// the item was already changed (an over-long opaque in `mg` and `ma`), which the executor
/// reproduces in place.
extension TextParser {
    /// memcached's `MFLAG_MAX_OPT_LENGTH`: more tokens than this (its `ntokens`) are refused.
    static let maximumMetaTokens = 20
    /// memcached's `MFLAG_MAX_OPAQUE_LENGTH`: the longest `O` token, letter included.
    public static let maximumOpaqueLength = 32

    /// Decodes a line whose command is two bytes starting with `m`.
    mutating func meta(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer, consumed: Int) -> ParseResult {
        func reply(_ command: Command) -> ParseResult { .command(command, consumed: consumed) }
        func fail(_ error: ErrorReply) -> ParseResult { reply(.failure(error, noreply: false)) }
        let ntokens = tokens.count
        switch buffer[tokens[0].offset + 1] {
        case UInt8(ascii: "n"):
            return reply(.metaNoop)
        case UInt8(ascii: "e"):
            return debug(tokens, buffer, consumed: consumed)
        case UInt8(ascii: "g"), UInt8(ascii: "d"), UInt8(ascii: "a"):
            let verb: MetaVerb = switch buffer[tokens[0].offset + 1] {
            case UInt8(ascii: "g"): .get
            case UInt8(ascii: "d"): .delete
            default: .arithmetic
            }
            guard ntokens >= 3 else { return fail(.unknownCommand) }
            guard tokens[1].count <= limits.maximumKeyLength else { return fail(.badFormat) }
            guard ntokens <= Self.maximumMetaTokens else {
                return fail(verb == .get ? .metaFlagsTooLongGet : .metaFlagsTooLong)
            }
            var flags = MetaFlags()
            if let error = Self.preparse(tokens, from: 2, buffer, into: &flags) {
                // md and ma replace whatever the flag parser said with one generic line.
                return fail(verb == .get ? error : .metaInvalidOrDuplicateFlag)
            }
            let flagTokens = Self.span(tokens, from: 2)
            if verb == .delete, Self.hasLongOpaque(tokens, from: 2, buffer) {
                return fail(.metaOpaqueTooLong)
            }
            if verb == .arithmetic {
                switch flags.mode {
                case 0, UInt8(ascii: "I"), UInt8(ascii: "+"), UInt8(ascii: "D"), UInt8(ascii: "-"): break
                default: return fail(.metaInvalidArithmeticMode)
                }
            }
            return reply(.meta(MetaRequest(verb: verb, key: tokens[1], flags: flags, flagTokens: flagTokens)))
        case UInt8(ascii: "s"):
            return metaSet(tokens, buffer, consumed: consumed)
        default:
            return fail(.unknownCommand)
        }
    }

    private func debug(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer, consumed: Int) -> ParseResult {
        let bad = ParseResult.command(.failure(.badFormat, noreply: false), consumed: consumed)
        guard tokens.count >= 3, tokens[1].count <= limits.maximumKeyLength else { return bad }
        var flags = MetaFlags()
        // Only a lone `b` right after the key means base64; anything else after it is ignored.
        if tokens.count >= 4, tokens[2].count == 1, buffer[tokens[2].offset] == UInt8(ascii: "b") {
            guard Base64Key.decode(tokens[1].bytes(in: buffer), into: nil) > 0 else { return bad }
            flags.insert(UInt8(ascii: "b"))
        }
        let request = MetaRequest(verb: .debug, key: tokens[1], flags: flags, flagTokens: ByteSpan(offset: tokens.end, count: 0))
        return .command(.meta(request), consumed: consumed)
    }

    private mutating func metaSet(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer, consumed: Int) -> ParseResult {
        func fail(_ error: ErrorReply) -> ParseResult { .command(.failure(error, noreply: false), consumed: consumed) }
        let ntokens = tokens.count
        guard ntokens >= 3 else { return fail(.unknownCommand) }
        guard tokens[1].count <= limits.maximumKeyLength, ntokens != 3 else { return fail(.badFormat) }
        guard ntokens <= Self.maximumMetaTokens else { return fail(.metaFlagsTooLong) }
        guard let length = NumberParsing.parseInt32(tokens[2].bytes(in: buffer)), length >= 0, length <= Int32.max - 2 else {
            return fail(.badFormat)
        }
        let valueLength = Int(length)
        // From here on every refusal swallows the data block, whose length is now known.
        func refuse(_ error: ErrorReply) -> ParseResult {
            state = .swallowing(remaining: valueLength + 2)
            return fail(error)
        }
        var flags = MetaFlags()
        if let error = Self.preparse(tokens, from: 3, buffer, into: &flags) { return refuse(error) }
        let longOpaque = Self.hasLongOpaque(tokens, from: 3, buffer)
        switch flags.mode {
        case 0, UInt8(ascii: "E"), UInt8(ascii: "A"), UInt8(ascii: "P"), UInt8(ascii: "R"), UInt8(ascii: "S"): break
        default: return refuse(.metaInvalidSetMode)
        }
        if longOpaque { return refuse(.metaOpaqueTooLong) }
        var keyCount = tokens[1].count
        if flags.base64Key { keyCount = Base64Key.decode(tokens[1].bytes(in: buffer), into: nil) }
        var request = MetaRequest(
            verb: .set, key: tokens[1], flags: flags, flagTokens: Self.span(tokens, from: 3),
            data: ByteSpan(offset: consumed, count: valueLength))
        guard limits.itemFits(keyLength: keyCount, flags: flags.clientFlags, valueLength: valueLength) else {
            request.tooLarge = true
            request.data = ByteSpan(offset: consumed, count: 0)  // never buffered: it is swallowed
            state = .swallowing(remaining: valueLength + 2)
            return .command(.meta(request), consumed: consumed)
        }
        let total = consumed + valueLength + 2
        return finishMetaSet(request, total: total, buffer)
    }

    /// Completes an `ms` once its data block is buffered. A block not ending in `\r\n` answers
    /// `CLIENT_ERROR bad data chunk` even in quiet mode, as memcached does.
    mutating func finishMetaSet(_ request: MetaRequest, total: Int, _ buffer: UnsafeRawBufferPointer) -> ParseResult {
        guard buffer.count >= total else {
            state = .awaitingMetaData(request, total: total)
            return .needMoreData(bufferSize: total)
        }
        state = .idle
        guard buffer[total - 2] == 0x0D, buffer[total - 1] == 0x0A else {
            return .command(.badDataChunk(noreply: false), consumed: total)
        }
        return .command(.meta(request), consumed: total)
    }

    /// The span from token `index` to the end of the line (empty when there is no such token).
    static func span(_ tokens: TokenizedLine, from index: Int) -> ByteSpan {
        let start = index < tokens.realCount ? tokens[index].offset : tokens.end
        return ByteSpan(offset: start, count: tokens.end - start)
    }

    static func hasLongOpaque(_ tokens: TokenizedLine, from start: Int, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var index = start
        while index < tokens.realCount {
            let token = tokens[index]
            if buffer[token.offset] == UInt8(ascii: "O") && token.count > maximumOpaqueLength { return true }
            index += 1
        }
        return false
    }

    /// memcached's `_meta_flag_preparse`: reads the flags from token `start` on. Returns the error
    /// line, or nil when every flag is acceptable. An unknown flag or a repeated one stops at
    /// once; a bad number is remembered and the scan goes on, so the last bad number's message
    /// wins (a bad `F` keeps whatever message was there, by default the generic one).
    static func preparse(
        _ tokens: TokenizedLine, from start: Int, _ buffer: UnsafeRawBufferPointer, into flags: inout MetaFlags
    ) -> ErrorReply? {
        var seenLow: UInt64 = 0
        var seenHigh: UInt64 = 0
        var error: ErrorReply? = nil
        var message = ErrorReply.badFormat
        var index = start
        while index < tokens.realCount {
            let token = tokens[index]
            index += 1
            let letter = buffer[token.offset]
            // memcached indexes a 127-entry table: a byte of 127 or more reads as already seen.
            if letter >= 127 { return .metaDuplicateFlag }
            if letter < 64 {
                if seenLow & (1 << UInt64(letter)) != 0 { return .metaDuplicateFlag }
                seenLow |= 1 << UInt64(letter)
            } else {
                if seenHigh & (1 << UInt64(letter - 64)) != 0 { return .metaDuplicateFlag }
                seenHigh |= 1 << UInt64(letter - 64)
            }
            let argument = UnsafeRawBufferPointer(rebasing: buffer[(token.offset + 1)..<token.end])
            func bad(_ reply: ErrorReply) {
                message = reply
                error = reply
            }
            switch letter {
            case UInt8(ascii: "b"):
                if Base64Key.decode(tokens[1].bytes(in: buffer), into: nil) == 0 { bad(.metaKeyDecoding) }
            case UInt8(ascii: "N"):
                if let value = NumberParsing.parseInt32(argument) { flags.vivifyTTL = value } else { bad(.metaBadToken) }
            case UInt8(ascii: "T"):
                if let value = NumberParsing.parseInt32(argument) { flags.ttl = value } else { bad(.metaBadToken) }
            case UInt8(ascii: "R"):
                if let value = NumberParsing.parseInt32(argument) { flags.recacheTTL = value } else { bad(.metaBadToken) }
            case UInt8(ascii: "F"):
                if let value = NumberParsing.parseUInt32(argument) { flags.clientFlags = value } else { error = message }
            case UInt8(ascii: "C"):
                if let value = NumberParsing.parseUInt64(argument) { flags.compareCAS = value } else { bad(.metaBadToken) }
            case UInt8(ascii: "M"):
                if token.count == 2 { flags.mode = buffer[token.offset + 1] } else { bad(.metaModeLength) }
            case UInt8(ascii: "J"):
                if let value = NumberParsing.parseUInt64(argument) { flags.initial = value } else { bad(.metaInvalidInitial) }
            case UInt8(ascii: "D"):
                if let value = NumberParsing.parseUInt64(argument) { flags.delta = value } else { bad(.metaInvalidDelta) }
            case UInt8(ascii: "O"), UInt8(ascii: "P"), UInt8(ascii: "L"), UInt8(ascii: "k"), UInt8(ascii: "s"),
                 UInt8(ascii: "t"), UInt8(ascii: "c"), UInt8(ascii: "f"), UInt8(ascii: "v"), UInt8(ascii: "h"),
                 UInt8(ascii: "l"), UInt8(ascii: "u"), UInt8(ascii: "q"), UInt8(ascii: "I"):
                break
            default:
                return .metaInvalidFlag
            }
            flags.insert(letter)
        }
        return error
    }
}

extension ErrorReply {
    /// An unknown meta flag.
    public static let metaInvalidFlag = ErrorReply("CLIENT_ERROR invalid flag")
    /// A meta flag given twice (or a flag byte of 127 or more).
    public static let metaDuplicateFlag = ErrorReply("CLIENT_ERROR duplicate flag")
    /// `md` and `ma` answer any flag error with this.
    public static let metaInvalidOrDuplicateFlag = ErrorReply("CLIENT_ERROR invalid or duplicate flag")
    /// A bad number after `N`, `T`, `R` or `C`.
    public static let metaBadToken = ErrorReply("CLIENT_ERROR bad token in command line format")
    /// A `b` key that does not decode.
    public static let metaKeyDecoding = ErrorReply("CLIENT_ERROR error decoding key")
    /// An `M` token that is not exactly two bytes.
    public static let metaModeLength = ErrorReply("CLIENT_ERROR incorrect length for M token")
    /// A bad `J`.
    public static let metaInvalidInitial = ErrorReply("CLIENT_ERROR invalid numeric initial value")
    /// A bad `D`.
    public static let metaInvalidDelta = ErrorReply("CLIENT_ERROR invalid numeric delta value")
    /// An `O` token longer than 32 bytes.
    public static let metaOpaqueTooLong = ErrorReply("CLIENT_ERROR opaque token too long")
    /// `ms` with an unknown `M` mode.
    public static let metaInvalidSetMode = ErrorReply("CLIENT_ERROR invalid mode for ms M token")
    /// `ma` with an unknown `M` mode.
    public static let metaInvalidArithmeticMode = ErrorReply("CLIENT_ERROR invalid mode for ma M token")
    /// `mg` with more than 20 tokens (memcached's wording differs from the other verbs').
    public static let metaFlagsTooLongGet = ErrorReply("CLIENT_ERROR options flags are too long")
    /// `ms`, `md`, `ma` with more than 20 tokens.
    public static let metaFlagsTooLong = ErrorReply("CLIENT_ERROR options flags too long")
}
