/// Verb dispatch, in the order and with the token-count rules of memcached's
/// `process_command_ascii`. `tokens.count` is memcached's `ntokens` (real tokens + 1).
extension TextParser {
    mutating func dispatch(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer, consumed: Int) -> ParseResult {
        func reply(_ command: Command) -> ParseResult { .command(command, consumed: consumed) }
        let unknown = reply(.failure(.unknownCommand, noreply: false))
        let ntokens = tokens.count
        guard ntokens >= 2, tokens[0].count >= 2 else { return unknown }
        let name = tokens[0]
        func named(_ literal: StaticString) -> Bool { TokenizedLine.equals(buffer, name, literal) }
        func within(_ low: Int, _ high: Int) -> Bool { ntokens >= low && ntokens <= high }

        switch buffer[name.offset] {
        case UInt8(ascii: "m") where name.count == 2:
            return meta(tokens, buffer, consumed: consumed)
        case UInt8(ascii: "g"):
            guard ntokens >= 3 else { return unknown }
            if named("get") { return reply(retrieval(.get, tokens, buffer)) }
            if named("gets") { return reply(retrieval(.gets, tokens, buffer)) }
            if named("gat") { return reply(retrieval(.gat, tokens, buffer)) }
            if named("gats") { return reply(retrieval(.gats, tokens, buffer)) }
            if named("genstate"), let lockCommand = lockVerb(named, tokens, buffer) { return reply(lockCommand) }
            return unknown
        case UInt8(ascii: "s"):
            if named("set") {
                return within(6, 7) ? beginStorage(.set, tokens, buffer, consumed: consumed) : unknown
            }
            if named("stats") {
                let start = ntokens > 2 ? tokens[1].offset : tokens.end
                return reply(.stats(arguments: ByteSpan(offset: start, count: tokens.end - start)))
            }
            if named("shutdown") { return reply(admin(.shutdown, tokens)) }
            if named("slabs") { return reply(admin(.slabs, tokens)) }
            if named("setgen") {
                return within(7, 8) ? beginStorage(.setgen, tokens, buffer, consumed: consumed) : unknown
            }
            return unknown
        case UInt8(ascii: "a"):
            if named("add") || named("append") {
                guard within(6, 7) else { return unknown }
                return beginStorage(named("add") ? .add : .append, tokens, buffer, consumed: consumed)
            }
            return unknown
        case UInt8(ascii: "c"):
            if named("cas") {
                return within(7, 8) ? beginStorage(.cas, tokens, buffer, consumed: consumed) : unknown
            }
            if named("cache_memlimit") { return within(3, 4) ? reply(admin(.cacheMemlimit, tokens)) : unknown }
            return unknown
        case UInt8(ascii: "i"):
            if named("incr") { return within(4, 5) ? reply(arithmetic(true, tokens, buffer)) : unknown }
            if named("invalidate") { return ntokens == 4 ? reply(invalidate(tokens, buffer)) : unknown }
            return unknown
        case UInt8(ascii: "d"):
            if named("delete") { return within(3, 5) ? reply(delete(tokens, buffer)) : unknown }
            if named("decr") { return within(4, 5) ? reply(arithmetic(false, tokens, buffer)) : unknown }
            return unknown
        case UInt8(ascii: "t"):
            if named("touch") { return within(4, 5) ? reply(touch(tokens, buffer)) : unknown }
            return unknown
        default:
            break
        }
        if named("prepend") || named("replace") {
            guard within(6, 7) else { return unknown }
            return beginStorage(named("prepend") ? .prepend : .replace, tokens, buffer, consumed: consumed)
        }
        if named("bget") { return ntokens >= 3 ? reply(retrieval(.get, tokens, buffer)) : unknown }
        if named("flush_all") { return within(2, 4) ? reply(flushAll(tokens, buffer)) : unknown }
        if named("version") { return reply(.version) }
        if named("refresh_certs") { return reply(.refreshCertificates(noreply: tokens.endsWithNoreply(buffer))) }
        if named("quit") { return reply(.quit) }
        if named("lru_crawler") { return reply(admin(.lruCrawler, tokens)) }
        if named("watch") { return reply(admin(.watch, tokens)) }
        if named("verbosity") { return within(3, 4) ? reply(verbosity(tokens, buffer)) : unknown }
        if named("lru") { return ntokens >= 3 ? reply(admin(.lru, tokens)) : unknown }
        if let lockCommand = lockVerb(named, tokens, buffer) { return reply(lockCommand) }
        if ntokens >= 2, tokens.realCount >= 1 {
            let last = tokens[tokens.realCount - 1]
            if last.count >= 5, TokenizedLine.equals(buffer, ByteSpan(offset: last.offset, count: 5), "HTTP/") {
                return reply(.close(.httpRequest))
            }
        }
        return unknown
    }

    func retrieval(_ verb: RetrievalVerb, _ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> Command {
        var keysStart = tokens[1].offset
        var exptime: Int32 = 0
        if verb.touches {
            guard let value = NumberParsing.parseInt32(tokens[1].bytes(in: buffer)) else {
                return .failure(.invalidExptime, noreply: false)
            }
            exptime = value
            keysStart = tokens[1].end
        }
        return .retrieval(RetrievalRequest(
            verb: verb, exptime: exptime, keyRange: ByteSpan(offset: keysStart, count: tokens.end - keysStart)))
    }

    func arithmetic(_ increment: Bool, _ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> Command {
        let noreply = tokens.endsWithNoreply(buffer)
        guard tokens[1].count <= limits.maximumKeyLength else { return .failure(.badFormat, noreply: noreply) }
        guard let delta = NumberParsing.parseUInt64(tokens[2].bytes(in: buffer)) else {
            return .failure(.invalidDelta, noreply: noreply)
        }
        return .arithmetic(ArithmeticRequest(increment: increment, key: tokens[1], delta: delta, noreply: noreply))
    }

    func touch(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> Command {
        let noreply = tokens.endsWithNoreply(buffer)
        guard tokens[1].count <= limits.maximumKeyLength else { return .failure(.badFormat, noreply: noreply) }
        guard let exptime = NumberParsing.parseInt32(tokens[2].bytes(in: buffer)) else {
            return .failure(.invalidExptime, noreply: noreply)
        }
        return .touch(key: tokens[1], exptime: exptime, noreply: noreply)
    }

    func delete(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> Command {
        var noreply = false
        if tokens.count > 3 {
            let holdIsZero = TokenizedLine.equals(buffer, tokens[2], "0")
            noreply = tokens.endsWithNoreply(buffer)
            let valid = (tokens.count == 4 && (holdIsZero || noreply))
                || (tokens.count == 5 && holdIsZero && noreply)
            guard valid else { return .failure(.deleteUsage, noreply: noreply) }
        }
        guard tokens[1].count <= limits.maximumKeyLength else { return .failure(.badFormat, noreply: noreply) }
        return .delete(key: tokens[1], noreply: noreply)
    }

    func flushAll(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> Command {
        let noreply = tokens.endsWithNoreply(buffer)
        // memcached refuses before it reads the delay: a bad delay gets the same refusal.
        guard limits.flushEnabled else { return .flushRefused(noreply: noreply) }
        var delay: Int32 = 0
        if tokens.count != (noreply ? 3 : 2) {
            guard let value = NumberParsing.parseInt32(tokens[1].bytes(in: buffer)) else {
                return .failure(.invalidExptime, noreply: noreply)
            }
            delay = value
        }
        return .flushAll(delay: delay, noreply: noreply)
    }

    /// An administrative command: its arguments are the rest of the line.
    func admin(_ verb: AdminRequest.Verb, _ tokens: TokenizedLine) -> Command {
        let start = tokens.count > 2 ? tokens[1].offset : tokens.end
        return .admin(AdminRequest(verb: verb, arguments: ByteSpan(offset: start, count: tokens.end - start), tokenCount: tokens.count))
    }

    func verbosity(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> Command {
        let noreply = tokens.endsWithNoreply(buffer)
        guard let level = NumberParsing.parseUInt32(tokens[1].bytes(in: buffer)) else {
            return .failure(.badFormat, noreply: noreply)
        }
        return .verbosity(level: level, noreply: noreply)
    }
}
