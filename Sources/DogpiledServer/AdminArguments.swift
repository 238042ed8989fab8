#if canImport(Glibc)
import Glibc
#endif
import MemcacheProtocol

/// The tokens of an administrative command as text, with memcached's number rules
/// (`safe_strtoul`, `safe_strtol`, `safe_strtod`). Administrative commands are rare, so this
/// allocates; the request path never comes here.
struct AdminArguments {
    /// The tokens after the command name.
    let words: [[UInt8]]
    /// memcached's `ntokens`: the command name, these tokens and the terminator.
    let tokenCount: Int

    init(_ request: AdminRequest, _ buffer: UnsafeRawBufferPointer) {
        words = request.arguments.bytes(in: buffer).split(separator: 0x20).map(Array.init)
        tokenCount = request.tokenCount
    }

    /// The tokens of `stats <arguments>`: `ntokens` counts `stats` too (at most 24, as memcached's
    /// tokenizer stops there).
    init(statsArguments arguments: UnsafeRawBufferPointer) {
        words = arguments.split(separator: 0x20).map(Array.init)
        tokenCount = min(words.count + 2, TokenizedLine.maximumTokens)
    }

    /// Token `index` (0 is the first after the command name), or empty past the end.
    subscript(index: Int) -> [UInt8] { index < words.count ? words[index] : [] }

    /// Whether token `index` is `text`.
    func word(_ index: Int, is text: String) -> Bool { self[index].elementsEqual(text.utf8) }

    /// memcached's `set_noreply_maybe`: the last real token is `noreply`.
    var noreply: Bool { words.last.map { $0.elementsEqual("noreply".utf8) } ?? false }

    /// `safe_strtoul` into 32 bits.
    func unsigned(_ index: Int) -> UInt32? { self[index].withUnsafeBytes { NumberParsing.parseUInt32($0) } }

    /// `safe_strtol` into 32 bits.
    func signed(_ index: Int) -> Int32? { self[index].withUnsafeBytes { NumberParsing.parseInt32($0) } }

    /// `safe_strtod`: C's `strtod`, no range error, something parsed, then white space or the end.
    func decimal(_ index: Int) -> Double? {
        let text = self[index] + [0]
        return text.withUnsafeBufferPointer { pointer -> Double? in
            pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: text.count) { start in
                var end: UnsafeMutablePointer<CChar>?
                errno = 0
                let value = strtod(start, &end)
                guard errno != ERANGE, let end, end != UnsafeMutablePointer(mutating: start) else { return nil }
                let next = UInt8(bitPattern: end.pointee)
                return next == 0 || next == 0x20 || (0x09...0x0D).contains(next) ? value : nil
            }
        }
    }
}
