/// The base64 of meta commands' `b` flag, with the exact leniency of memcached 1.6.18's decoder:
/// bytes outside the alphabet are skipped, the remaining symbols must come in whole groups of
/// four, `=` counts as a zero symbol and ends decoding after the group it appears in (one or two
/// of them drop that many bytes; more makes the key invalid). Encoding is plain RFC 4648 with
/// padding and no line breaks. Keys are short, so both directions work on caller-provided memory.
public enum Base64Key {
    /// The symbol value of each byte, or 0x80 for a byte the decoder skips; `=` reads as 0.
    @usableFromInline
    static let symbols: InlineArray<256, UInt8> = {
        var table = InlineArray<256, UInt8>(repeating: 0x80)
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        for index in 0..<64 { table[Int(alphabet.utf8Start[index])] = UInt8(index) }
        table[Int(UInt8(ascii: "="))] = 0
        return table
    }()

    /// Most bytes ``decode(_:into:)`` can produce from `encodedCount` bytes.
    @inlinable
    public static func maximumDecodedCount(_ encodedCount: Int) -> Int { encodedCount / 4 * 3 }

    /// Decodes `source` into `target` (which must hold ``maximumDecodedCount(_:)`` bytes) and
    /// returns the decoded length; 0 means the key is invalid, as memcached answers it.
    public static func decode(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer?) -> Int {
        var symbolCount = 0
        for byte in source where symbols[Int(byte)] != 0x80 { symbolCount += 1 }
        if symbolCount == 0 || symbolCount % 4 != 0 { return 0 }
        var block: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        var filled = 0
        var padding = 0
        var written = 0
        for byte in source {
            let value = symbols[Int(byte)]
            if value == 0x80 { continue }
            if byte == UInt8(ascii: "=") { padding += 1 }
            switch filled {
            case 0: block.0 = value
            case 1: block.1 = value
            case 2: block.2 = value
            default: block.3 = value
            }
            filled += 1
            guard filled == 4 else { continue }
            filled = 0
            if let target {
                target[written] = (block.0 << 2) | (block.1 >> 4)
                target[written + 1] = (block.1 << 4) | (block.2 >> 2)
                target[written + 2] = (block.2 << 6) | block.3
            }
            written += 3
            if padding > 0 {
                // One or two `=` drop as many bytes; more is invalid. Either way the group with
                // padding is the last one read.
                if padding > 2 { return 0 }
                written -= padding
                break
            }
        }
        return written
    }

    /// Length of the encoding of `count` bytes.
    @inlinable
    public static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Encodes `source` into `target` at `offset`; returns the offset after the encoding.
    public static func encode(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let table = alphabet.utf8Start
        var position = offset
        var index = 0
        let count = source.count
        while count - index >= 3 {
            let a = source[index], b = source[index + 1], c = source[index + 2]
            target[position] = table[Int(a >> 2)]
            target[position + 1] = table[Int(((a & 0x03) << 4) | (b >> 4))]
            target[position + 2] = table[Int(((b & 0x0F) << 2) | (c >> 6))]
            target[position + 3] = table[Int(c & 0x3F)]
            position += 4
            index += 3
        }
        if count - index > 0 {
            let a = source[index]
            target[position] = table[Int(a >> 2)]
            if count - index == 1 {
                target[position + 1] = table[Int((a & 0x03) << 4)]
                target[position + 2] = UInt8(ascii: "=")
            } else {
                let b = source[index + 1]
                target[position + 1] = table[Int(((a & 0x03) << 4) | (b >> 4))]
                target[position + 2] = table[Int((b & 0x0F) << 2)]
            }
            target[position + 3] = UInt8(ascii: "=")
            position += 4
        }
        return position
    }
}
