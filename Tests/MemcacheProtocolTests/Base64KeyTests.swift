import MemcacheProtocol
import Testing

/// memcached's lenient base64 for `b` keys, and the reply line writer.
@Suite("Base64Key and MetaLineWriter")
struct Base64KeyTests {
    func decoded(_ text: String) -> [UInt8]? {
        let input = bytes(text)
        var output = [UInt8](repeating: 0, count: input.count)
        let count = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { Base64Key.decode(source, into: $0) }
        }
        return count == 0 ? nil : Array(output[0..<count])
    }

    func encoded(_ input: [UInt8]) -> String {
        var output = [UInt8](repeating: 0, count: Base64Key.encodedCount(input.count))
        let end = input.withUnsafeBytes { source in output.withUnsafeMutableBytes { Base64Key.encode(source, into: $0, at: 0) } }
        return String(decoding: output[0..<end], as: UTF8.self)
    }

    @Test func decodesAsMemcachedDoes() {
        #expect(decoded("Zm9v") == bytes("foo"))
        #expect(decoded("Zm9vYg==") == bytes("foob"))
        #expect(decoded("Zg==") == bytes("f"))
        // Bytes outside the alphabet are skipped.
        #expect(decoded("Zm!9v") == bytes("foo"))
        // `=` reads as zero and ends decoding after its group: "Yg=x" gives "b" and a NUL.
        #expect(decoded("Zm9vYg=x") == bytes("foob") + [0])
        #expect(decoded("Zg==Zm9v") == bytes("f"))
    }

    @Test func refusesWhatMemcachedRefuses() {
        for text in ["Zm9", "Zm9v=", "Z", "====", "Zm9vYg", ""] {
            #expect(decoded(text) == nil, "\(text)")
        }
    }

    @Test func encodesWithPadding() {
        #expect(encoded(bytes("foo")) == "Zm9v")
        #expect(encoded(bytes("foob")) == "Zm9vYg==")
        #expect(encoded(bytes("foob") + [0]) == "Zm9vYgA=")
        #expect(encoded([0xFF, 0xFE, 0xFD]) == "//79")
    }

    @Test func writerFormatsFlagsAndKeys() {
        var memory = [UInt8](repeating: 0, count: MetaLineWriter.maximumLineLength)
        let text: String = memory.withUnsafeMutableBytes { target in
            var line = MetaLineWriter(target)
            line.append("HD")
            line.flag(UInt8(ascii: "t"))
            line.signedDecimal(-1)
            bytes("foo").withUnsafeBytes { line.key($0, binary: false) }
            bytes("foob").withUnsafeBytes { line.key($0, binary: true) }
            line.flag(UInt8(ascii: "c"))
            line.decimal(UInt64.max)
            line.endLine()
            return String(decoding: line.written, as: UTF8.self)
        }
        #expect(text == "HD t-1 kfoo kZm9vYg== b c18446744073709551615\r\n")
    }
}
