/// Writes a meta reply line (`HD`, `VA <n>`, `EN`, ... and its return flags) into caller-owned
/// memory, without `String`. The caller sizes the memory with ``maximumLineLength``.
public struct MetaLineWriter {
    /// Longest line any meta reply needs: a code and length, every one of at most 20 flags with
    /// the widest value (a 32-byte opaque, a 64-bit number, a base64 key with its ` b`), ` Z X W`
    /// and CRLF, with room to spare.
    public static let maximumLineLength = 2048

    /// The memory written to.
    public let target: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    public private(set) var count = 0

    /// Starts writing at the beginning of `target`.
    public init(_ target: UnsafeMutableRawBufferPointer) {
        self.target = target
    }

    /// Appends raw bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: target[count..<(count + bytes.count)]).copyMemory(from: bytes)
        count += bytes.count
    }

    /// Appends a literal.
    public mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends one byte.
    public mutating func append(byte: UInt8) {
        target[count] = byte
        count += 1
    }

    /// Appends ` <letter>`, memcached's `META_CHAR`.
    public mutating func flag(_ letter: UInt8) {
        append(byte: 0x20)
        append(byte: letter)
    }

    /// Appends the decimal digits of `value`.
    public mutating func decimal(_ value: UInt64) {
        count = ReplyEncoding.writeDecimal(value, into: target, at: count)
    }

    /// Appends a signed decimal.
    public mutating func signedDecimal(_ value: Int64) {
        if value < 0 {
            append(byte: UInt8(ascii: "-"))
            decimal(value == .min ? UInt64(Int64.max) + 1 : UInt64(-value))
        } else {
            decimal(UInt64(value))
        }
    }

    /// Appends ` k<key>`, base64-encoded and followed by ` b` for a binary key (`META_KEY`).
    public mutating func key(_ key: UnsafeRawBufferPointer, binary: Bool) {
        flag(UInt8(ascii: "k"))
        if binary {
            count = Base64Key.encode(key, into: target, at: count)
            flag(UInt8(ascii: "b"))
        } else {
            append(key)
        }
    }

    /// Appends the key for `me`: base64 for a binary key, else as stored.
    public mutating func debugKey(_ key: UnsafeRawBufferPointer, binary: Bool) {
        if binary { count = Base64Key.encode(key, into: target, at: count) } else { append(key) }
    }

    /// Appends CRLF.
    public mutating func endLine() {
        append(byte: 0x0D)
        append(byte: 0x0A)
    }

    /// The bytes written.
    public var written: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: target[0..<count])
    }
}
