// No Foundation and no NIO here: this file and the reply types build on their own (Fuzz/).

extension ReplyDecoder {
    /// `mlockgen`'s reply: per key `VALUE`+data+`HIT`|`STALE`|`GEN <token>`, or `GEN <token>`,
    /// `MISS`, `SERVER_ERROR <message>`; then `END`. An error line before any block
    /// (`ERROR`, `CLIENT_ERROR ...`) answers the whole request.
    ///
    /// Like the other replies, it resumes past the blocks already read (`resume`, `blocks`, and a
    /// `VALUE` whose end line has not arrived in `blockItem`), so a long reply is scanned once.
    mutating func decodeLockgenBlocks(_ bytes: UnsafeRawBufferPointer) -> Step {
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
                guard blockItem == nil else { return finish(.invalid("two VALUE blocks for one key")) }
                switch Self.valueBlock(line, in: bytes, dataStart: next) {
                case .needMoreBytes:
                    resume = offset
                    return .needMoreBytes
                case .invalid(let reason):
                    return finish(.invalid(reason))
                case .item(let item, let after):
                    blockItem = item
                    offset = after
                    continue
                }
            }
            if Self.equals(line, "END") {
                guard blockItem == nil else { return finish(.invalid("END after a VALUE block")) }
                return finish(.reply(.lockgenBlocks(blocks), consumed: next))
            }
            if Self.equals(line, "MISS") {
                guard blockItem == nil else { return finish(.invalid("MISS after a VALUE block")) }
                blocks.append(.miss)
            } else if let end = Self.valuesEnd(line) {
                switch end {
                case .hit, .stale:
                    guard let item = blockItem else { return finish(.invalid("HIT or STALE without a VALUE block")) }
                    blocks.append(end == .hit ? .hit(item) : .stale(item))
                case .generate(let token):
                    blocks.append(.generate(token: token, item: blockItem))
                case .end:
                    return finish(.invalid("END after a VALUE block"))  // handled above
                }
                blockItem = nil
            } else if Self.hasPrefix(line, "SERVER_ERROR") {
                guard blockItem == nil else { return finish(.invalid("SERVER_ERROR after a VALUE block")) }
                blocks.append(.serverError(Self.message(line, after: 12)))
            } else if blocks.isEmpty && blockItem == nil, let error = Self.errorReply(line) {
                return finish(.reply(error, consumed: next))
            } else {
                return finish(.invalid("an unexpected line in an mlockgen reply"))
            }
            offset = next
        }
    }
}
