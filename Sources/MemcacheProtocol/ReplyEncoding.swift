/// Formatting of reply lines straight into output memory, without `String`.
public enum ReplyEncoding {
    /// The longest `VALUE` line: "VALUE " + 250-byte key + flags + length + CAS + separators.
    public static let maximumValueLineLength = 6 + 250 + 3 * 21 + 2

    /// Writes the decimal digits of `value` at `offset`; returns the offset after them.
    @inline(__always)
    public static func writeDecimal(_ value: UInt64, into target: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var digits = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var remaining = value
        var position = offset + digits - 1
        repeat {
            target[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
            position -= 1
        } while remaining > 0
        return offset + digits
    }

    /// Writes `VALUE <key> <flags> <bytes>[ <cas>]\r\n`; returns the bytes written.
    /// `target` must hold ``maximumValueLineLength`` bytes.
    @inline(__always)
    public static func writeValueLine(
        key: UnsafeRawBufferPointer, flags: UInt32, length: Int, cas: UInt64?,
        into target: UnsafeMutableRawBufferPointer
    ) -> Int {
        let prefix: StaticString = "VALUE "
        UnsafeMutableRawBufferPointer(rebasing: target[0..<6])
            .copyMemory(from: UnsafeRawBufferPointer(start: prefix.utf8Start, count: 6))
        var offset = 6
        if key.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: target[offset..<(offset + key.count)]).copyMemory(from: key)
            offset += key.count
        }
        target[offset] = 0x20
        offset = writeDecimal(UInt64(flags), into: target, at: offset + 1)
        target[offset] = 0x20
        offset = writeDecimal(UInt64(length), into: target, at: offset + 1)
        if let cas {
            target[offset] = 0x20
            offset = writeDecimal(cas, into: target, at: offset + 1)
        }
        target[offset] = 0x0D
        target[offset + 1] = 0x0A
        return offset + 2
    }
}
