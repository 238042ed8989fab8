/// Unsigned LEB128: seven bits per byte, low bits first, the high bit set on every byte but the
/// last. Items keep their value length and client flags this way, so the common small values
/// (lengths under 128, flags 0) take one byte each.
enum LEB128 {
    /// Bytes `value` takes.
    @inline(__always)
    static func length(_ value: UInt64) -> Int {
        value < 0x80 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// Writes `value` at `pointer`; returns the bytes written.
    @inline(__always)
    static func write(_ value: UInt64, at pointer: UnsafeMutableRawPointer) -> Int {
        var rest = value
        var count = 0
        while rest >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: rest) | 0x80, toByteOffset: count, as: UInt8.self)
            rest >>= 7
            count += 1
        }
        pointer.storeBytes(of: UInt8(rest), toByteOffset: count, as: UInt8.self)
        return count + 1
    }

    /// Reads a value written by ``write(_:at:)``: the value and the bytes it took.
    @inline(__always)
    static func read(at pointer: UnsafeRawPointer) -> (value: UInt64, length: Int) {
        let first = pointer.load(as: UInt8.self)
        if first < 0x80 { return (UInt64(first), 1) }
        var value = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        var count = 1
        while true {
            let byte = pointer.load(fromByteOffset: count, as: UInt8.self)
            value |= UInt64(byte & 0x7F) << shift
            count += 1
            if byte < 0x80 { return (value, count) }
            shift += 7
        }
    }
}
