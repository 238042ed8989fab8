import Dogpile
import MemcacheProtocol
import Testing

private func u64(_ text: [UInt8]) -> UInt64? { text.withUnsafeBytes { NumberParsing.parseUInt64($0) } }
private func u32(_ text: [UInt8]) -> UInt32? { text.withUnsafeBytes { NumberParsing.parseUInt32($0) } }
private func i32(_ text: [UInt8]) -> Int32? { text.withUnsafeBytes { NumberParsing.parseInt32($0) } }

/// memcached's `safe_strtoull` / `safe_strtoul` / `safe_strtol` rules (spec §2).
@Suite("NumberParsing")
struct NumberParsingTests {
    @Test(arguments: [
        ("0", UInt64(0)), ("5", 5), ("+5", 5), ("010", 10), ("007", 7), ("-0", 0),
        ("5\t", 5), ("5\r", 5), ("5\n", 5), ("5\u{0B}", 5), ("5\u{0C}", 5), ("5 ", 5), ("5\tx", 5),
        ("\t5", 5), ("\r\n 12", 12), ("12\r\n", 12),
        ("4294967296", 4_294_967_296), ("4294967301", 4_294_967_301),
        ("9223372036854775807", 9_223_372_036_854_775_807), ("9223372036854775808", 9_223_372_036_854_775_808),
        ("18446744073709551615", UInt64.max), ("-18446744073709551615", 1), ("-9223372036854775809", 9_223_372_036_854_775_807),
        ("000000000000000000000000001", 1),
    ] as [(String, UInt64)])
    func uint64Accepts(text: String, value: UInt64) {
        #expect(u64(bytes(text)) == value)
    }

    @Test(arguments: [
        "", " ", "\t", "+", "-", "+-5", "-+5", "1x", "12abc", "abc", "0x10", "x1", "-1", "-9223372036854775808", "-9223372036854775807",
        "18446744073709551616", "99999999999999999999999", "1.5", "1,000", "\u{00}5",
    ])
    func uint64Rejects(text: String) {
        #expect(u64(bytes(text)) == nil)
    }

    @Test func uint64StopsAtNul() {
        // Tokens are C strings: a NUL ends the number just like the end of the token.
        #expect(u64(bytes("42") + [0] + bytes("junk")) == 42)
    }

    @Test(arguments: [
        ("0", UInt32(0)), ("4294967295", UInt32.max), ("4294967296", 0), ("4294967301", 5),
        ("18446744073709551615", UInt32.max), ("-0", 0), ("-18446744073709551615", 1), ("+5", 5), ("010", 10),
        ("5\t", 5), ("9223372036854775807", UInt32.max),
    ] as [(String, UInt32)])
    func uint32ParsesAs64BitThenTruncates(text: String, value: UInt32) {
        #expect(u32(bytes(text)) == value)
    }

    @Test(arguments: ["-1", "-4294967295", "-9223372036854775808", "18446744073709551616", "1x", "", "abc", "0x10"])
    func uint32Rejects(text: String) {
        #expect(u32(bytes(text)) == nil)
    }

    @Test func uint32AcceptsNegativeValuesThatLookPositive() {
        // strtoul negates; memcached only refuses a '-' when the 64-bit result has its top bit set.
        #expect(u32(bytes("-9223372036854775809")) == UInt32(truncatingIfNeeded: UInt64(9_223_372_036_854_775_807)))
        #expect(u32(bytes("-18446744073709551614")) == 2)
    }

    @Test(arguments: [
        ("0", Int32(0)), ("-1", -1), ("+5", 5), ("010", 10), ("2147483647", Int32.max), ("-2147483648", Int32.min),
        ("2147483648", Int32.min), ("4294967295", -1), ("4294967296", 0), ("4294967303", 7),
        ("9223372036854775807", -1), ("-9223372036854775808", 0), ("-2147483649", Int32.max), ("5\t", 5), (" 7", 7),
    ] as [(String, Int32)])
    func int32ParsesAs64BitThenTruncates(text: String, value: Int32) {
        #expect(i32(bytes(text)) == value)
    }

    @Test(arguments: [
        "9223372036854775808", "-9223372036854775809", "18446744073709551615", "1x", "", "abc", "0x10", "+", "--1",
    ])
    func int32Rejects(text: String) {
        #expect(i32(bytes(text)) == nil)
    }

    @Test func parsersReadOnlyTheGivenBytes() {
        // The buffer may be a slice of a larger line: parsing must stop at its end.
        let line = bytes("set k 12 34 56")
        line.withUnsafeBytes { buffer in
            let flags = UnsafeRawBufferPointer(rebasing: buffer[6..<8])
            let exptime = UnsafeRawBufferPointer(rebasing: buffer[9..<11])
            #expect(NumberParsing.parseUInt32(flags) == 12)
            #expect(NumberParsing.parseInt32(exptime) == 34)
            #expect(NumberParsing.parseUInt64(UnsafeRawBufferPointer(rebasing: buffer[12..<13])) == 5)
        }
    }

    @Test func randomDecimalRoundTrips() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let value = random.next() >> (random.next() % 64)
            #expect(u64(bytes(String(value))) == value)
            #expect(u32(bytes(String(value))) == UInt32(truncatingIfNeeded: value))
            let signed = Int64(bitPattern: random.next()) >> (random.next() % 64)
            #expect(i32(bytes(String(signed))) == Int32(truncatingIfNeeded: signed))
        }
    }
}
