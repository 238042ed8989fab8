/// dogpiled's lock verbs (PROTOCOL.md): `lockgen`, `mlockgen`, `unlockgen`, `lock`, `rlock`, `unlock`,
/// `lockstate`, `genstate`,
/// `renew`, `invalidate`. A wrong token count answers `ERROR`; a bad number, a value out of range
/// or a key over 250 bytes answers `CLIENT_ERROR bad command line format`.
extension TextParser {
    /// Longest lease, in milliseconds (one hour).
    public static let maximumLeaseMilliseconds: UInt64 = 3_600_000
    /// Longest wait, in milliseconds (ten minutes).
    public static let maximumWaitMilliseconds: UInt64 = 600_000

    /// The command for a lock verb, `ERROR` for a lock verb with the wrong token count, or nil if
    /// the line is not a lock verb.
    func lockVerb(_ named: (StaticString) -> Bool, _ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> Command? {
        let ntokens = tokens.count
        let unknown = Command.failure(.unknownCommand, noreply: false)
        if named("lockgen") {
            guard ntokens >= 4 && ntokens <= 6 else { return unknown }
            // A trailing `early` opts in to early recompute; without it, the classic shape.
            let early = ntokens >= 5 && TokenizedLine.equals(buffer, tokens[ntokens - 2], "early")
            guard ntokens < 6 || early else { return unknown }
            return leaseRequest(tokens, buffer, waitToken: ntokens - (early ? 1 : 0) == 5) { key, lease, wait in
                .lockgen(key: key, leaseMilliseconds: lease, waitMilliseconds: wait, early: early)
            }
        }
        if named("mlockgen") {
            guard ntokens >= 4 else { return unknown }
            guard let lease = milliseconds(tokens[1], buffer, allowed: 1...Self.maximumLeaseMilliseconds) else {
                return .failure(.badFormat, noreply: false)
            }
            let keys = ByteSpan(offset: tokens[2].offset, count: tokens.end - tokens[2].offset)
            for key in KeyList(buffer: buffer, range: keys) where key.count > limits.maximumKeyLength {
                return .failure(.badFormat, noreply: false)
            }
            return .multiLockgen(leaseMilliseconds: lease, keys: keys)
        }
        if named("lock") || named("rlock") {
            guard ntokens == 4 || ntokens == 5 else { return unknown }
            let shared = named("rlock")
            return leaseRequest(tokens, buffer, waitToken: ntokens == 5) { name, lease, wait in
                .lock(name: name, shared: shared, leaseMilliseconds: lease, waitMilliseconds: wait)
            }
        }
        if named("unlockgen") || named("unlock") {
            guard ntokens == 4 else { return unknown }
            guard tokens[1].count <= limits.maximumKeyLength,
                  let token = NumberParsing.parseUInt64(tokens[2].bytes(in: buffer))
            else { return .failure(.badFormat, noreply: false) }
            return named("unlock") ? .unlock(name: tokens[1], token: token) : .unlockgen(key: tokens[1], token: token)
        }
        if named("lockstate") || named("genstate") {
            guard ntokens == 3 else { return unknown }
            guard tokens[1].count <= limits.maximumKeyLength else { return .failure(.badFormat, noreply: false) }
            return .lockState(name: tokens[1], generation: named("genstate"))
        }
        if named("renew") {
            guard ntokens == 5 else { return unknown }
            guard tokens[1].count <= limits.maximumKeyLength,
                  let token = NumberParsing.parseUInt64(tokens[2].bytes(in: buffer)),
                  let lease = milliseconds(tokens[3], buffer, allowed: 1...Self.maximumLeaseMilliseconds)
            else { return .failure(.badFormat, noreply: false) }
            return .renew(name: tokens[1], token: token, leaseMilliseconds: lease)
        }
        return nil
    }

    /// `<key> <lease_ms> [<wait_ms>]`, validated; `waitToken`: whether `<wait_ms>` is there.
    private func leaseRequest(
        _ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer, waitToken: Bool,
        _ make: (ByteSpan, Int, Int?) -> Command
    ) -> Command {
        guard tokens[1].count <= limits.maximumKeyLength,
              let lease = milliseconds(tokens[2], buffer, allowed: 1...Self.maximumLeaseMilliseconds)
        else { return .failure(.badFormat, noreply: false) }
        var wait: Int? = nil
        if waitToken {
            guard let value = milliseconds(tokens[3], buffer, allowed: 0...Self.maximumWaitMilliseconds) else {
                return .failure(.badFormat, noreply: false)
            }
            wait = value
        }
        return make(tokens[1], lease, wait)
    }

    /// A millisecond count: plain decimal digits only, within `allowed`.
    private func milliseconds(_ span: ByteSpan, _ buffer: UnsafeRawBufferPointer, allowed: ClosedRange<UInt64>) -> Int? {
        guard span.count > 0, span.count <= 10 else { return nil }
        var value: UInt64 = 0
        for index in span.offset..<span.end {
            let digit = buffer[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            value = value * 10 + UInt64(digit)
        }
        return allowed.contains(value) ? Int(value) : nil
    }

    func invalidate(_ tokens: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> Command {
        if TokenizedLine.equals(buffer, tokens[2], "hard") { return .invalidate(region: tokens[1], hard: true) }
        if TokenizedLine.equals(buffer, tokens[2], "soft") { return .invalidate(region: tokens[1], hard: false) }
        return .failure(.badFormat, noreply: false)
    }
}
