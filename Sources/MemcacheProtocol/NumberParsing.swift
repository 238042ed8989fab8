/// Number parsing with the exact acceptance rules of memcached's `safe_strto*` helpers, which wrap
/// C's `strtoull`/`strtol`: leading white space and a sign are accepted, at least one digit is
/// required, overflow is an error, and the first byte after the digits must be white space or the
/// end of the token. Reproducing these rules (rather than a stricter parser) is what makes
/// malformed numbers answer exactly as memcached does.
public enum NumberParsing {
    @inlinable
    static func isCSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    /// `strtoull` on `bytes`: returns the magnitude, whether a minus sign was seen, and the index
    /// just past the digits; `nil` when there are no digits or the value overflows 64 bits.
    @inlinable
    static func scanUnsigned(_ bytes: UnsafeRawBufferPointer) -> (value: UInt64, negative: Bool, end: Int)? {
        var index = 0
        let count = bytes.count
        while index < count && isCSpace(bytes[index]) { index += 1 }
        var negative = false
        if index < count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        let firstDigit = index
        var value: UInt64 = 0
        var overflow = false
        while index < count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            if digit > 9 { break }
            if !overflow {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                if o1 || o2 { overflow = true } else { value = sum }
            }
            index += 1
        }
        if index == firstDigit || overflow { return nil }
        return (value, negative, index)
    }

    /// The rule after the digits: the token ends (the end of the bytes or a NUL, as in a C
    /// string), or white space follows.
    @inlinable
    static func endsCleanly(_ bytes: UnsafeRawBufferPointer, at end: Int) -> Bool {
        end == bytes.count || bytes[end] == 0 || isCSpace(bytes[end])
    }

    /// memcached's `safe_strtoull`: an unsigned 64-bit number. A minus sign is accepted only when
    /// the negated value still looks non-negative as a signed number (a quirk kept on purpose).
    @inlinable
    public static func parseUInt64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard let scan = scanUnsigned(bytes), endsCleanly(bytes, at: scan.end) else { return nil }
        let value = scan.negative ? 0 &- scan.value : scan.value
        if Int64(bitPattern: value) < 0 && scan.negative { return nil }
        return value
    }

    /// memcached's `safe_strtoul` into a 32-bit field (flags, verbosity level): parsed as a 64-bit
    /// `unsigned long` and then truncated to its low 32 bits, as the C assignment does
    /// (`4294967301` reads as 5).
    @inlinable
    public static func parseUInt32(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard let value = parseUInt64(bytes) else { return nil }
        return UInt32(truncatingIfNeeded: value)
    }

    /// memcached's `safe_strtol` into a 32-bit field (exptime, byte counts): parsed as a 64-bit
    /// `long` (overflow is an error) and then truncated to 32 bits (`4294967303` reads as 7).
    @inlinable
    public static func parseInt32(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        guard let scan = scanUnsigned(bytes), endsCleanly(bytes, at: scan.end) else { return nil }
        let limit = scan.negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        guard scan.value <= limit else { return nil }
        let value = scan.negative ? 0 &- Int64(bitPattern: scan.value) : Int64(scan.value)
        return Int32(truncatingIfNeeded: value)
    }
}
