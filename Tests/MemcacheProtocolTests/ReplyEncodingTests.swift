import Dogpile
import MemcacheProtocol
import Testing

private func decimal(_ value: UInt64, at offset: Int = 0) -> (text: String, end: Int) {
    var storage = [UInt8](repeating: 0x2E, count: 32)
    let end = storage.withUnsafeMutableBytes { ReplyEncoding.writeDecimal(value, into: $0, at: offset) }
    return (String(decoding: storage[offset..<end], as: UTF8.self), end)
}

private func valueLine(key: [UInt8], flags: UInt32, length: Int, cas: UInt64?) -> [UInt8] {
    var storage = [UInt8](repeating: 0, count: ReplyEncoding.maximumValueLineLength)
    let written = key.withUnsafeBytes { keyBytes in
        storage.withUnsafeMutableBytes {
            ReplyEncoding.writeValueLine(key: keyBytes, flags: flags, length: length, cas: cas, into: $0)
        }
    }
    return Array(storage[0..<written])
}

@Suite("ReplyEncoding")
struct ReplyEncodingTests {
    @Test(arguments: [
        (UInt64(0), "0"), (9, "9"), (10, "10"), (99, "99"), (100, "100"), (4_294_967_295, "4294967295"),
        (10_000_000_000_000_000_000, "10000000000000000000"), (UInt64.max, "18446744073709551615"),
    ] as [(UInt64, String)])
    func writesDecimal(value: UInt64, text: String) {
        let result = decimal(value)
        #expect(result.text == text)
        #expect(result.end == text.utf8.count)
    }

    @Test func writeDecimalAtAnOffsetTouchesOnlyItsDigits() {
        var storage = [UInt8](repeating: 0x2E, count: 10)
        let end = storage.withUnsafeMutableBytes { ReplyEncoding.writeDecimal(1234, into: $0, at: 3) }
        #expect(end == 7)
        #expect(String(decoding: storage, as: UTF8.self) == "...1234...")
    }

    @Test func randomValuesMatchStringDescription() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<1000 {
            let value = random.next() >> (random.next() % 64)
            #expect(decimal(value, at: 5).text == String(value))
        }
    }

    @Test func valueLineWithoutCAS() {
        #expect(valueLine(key: bytes("foo"), flags: 5, length: 3, cas: nil) == bytes("VALUE foo 5 3\r\n"))
        #expect(valueLine(key: bytes("k"), flags: 0, length: 0, cas: nil) == bytes("VALUE k 0 0\r\n"))
    }

    @Test func valueLineWithCAS() {
        #expect(valueLine(key: bytes("foo"), flags: 0, length: 10, cas: 1) == bytes("VALUE foo 0 10 1\r\n"))
        #expect(valueLine(key: bytes("n"), flags: 4_294_967_295, length: 1_048_516, cas: 0)
            == bytes("VALUE n 4294967295 1048516 0\r\n"))
    }

    @Test func valueLineEchoesRawKeyBytes() {
        let key: [UInt8] = [0x6B, 0x01, 0x0D, 0x7F, 0xFF, 0x09]
        #expect(valueLine(key: key, flags: 1, length: 2, cas: nil) == bytes("VALUE ") + key + bytes(" 1 2\r\n"))
    }

    @Test func valueLineWithAnEmptyKey() {
        #expect(valueLine(key: [], flags: 1, length: 2, cas: nil) == bytes("VALUE  1 2\r\n"))
    }

    @Test func longestValueLineFits() {
        #expect(ReplyEncoding.maximumValueLineLength == 6 + 250 + 63 + 2)
        let key = [UInt8](repeating: 0x6B, count: 250)
        let line = valueLine(key: key, flags: UInt32.max, length: Int(Int32.max), cas: UInt64.max)
        #expect(line.count <= ReplyEncoding.maximumValueLineLength)
        #expect(line == bytes("VALUE ") + key + bytes(" 4294967295 2147483647 18446744073709551615\r\n"))
    }
}
