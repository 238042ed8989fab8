import MemcacheProtocol
import Testing

/// Tokenizes `text` (the whole buffer) and hands the tokens and buffer to `body`.
private func withTokens<R>(_ text: [UInt8], start: Int = 0, end: Int? = nil,
                           _ body: (TokenizedLine, UnsafeRawBufferPointer) -> R) -> R {
    text.withUnsafeBytes { buffer in
        body(TokenizedLine(buffer, start: start, end: end ?? buffer.count), buffer)
    }
}

private func words(_ line: TokenizedLine, _ buffer: UnsafeRawBufferPointer) -> [String] {
    (0..<line.realCount).map { String(decoding: line[$0].bytes(in: buffer), as: UTF8.self) }
}

/// memcached's `tokenize_command`: spaces only, NUL ends the line, 23 tokens then a remainder.
@Suite("TokenizedLine")
struct TokenizedLineTests {
    @Test func splitsOnRunsOfSpaces() {
        withTokens(bytes("  a  bb ccc  ")) { line, buffer in
            #expect(line.count == 4)
            #expect(line.realCount == 3)
            #expect(line.remainder == nil)
            #expect(line.end == 13)
            #expect(line[0] == ByteSpan(offset: 2, count: 1))
            #expect(line[1] == ByteSpan(offset: 5, count: 2))
            #expect(line[2] == ByteSpan(offset: 8, count: 3))
            #expect(words(line, buffer) == ["a", "bb", "ccc"])
        }
    }

    @Test func emptyAndBlankLines() {
        withTokens([]) { line, _ in
            #expect(line.count == 1)
            #expect(line.realCount == 0)
            #expect(line.end == 0)
        }
        withTokens(bytes("     ")) { line, _ in
            #expect(line.count == 1)
            #expect(line.remainder == nil)
        }
    }

    @Test func onlySpaceSeparates() {
        withTokens(bytes("get\ta b\rc d\u{0B}e \u{01}\u{7F}")) { line, buffer in
            #expect(words(line, buffer) == ["get\ta", "b\rc", "d\u{0B}e", "\u{01}\u{7F}"])
        }
        withTokens([0x67, 0xFF, 0x20, 0x80]) { line, buffer in
            #expect(line.realCount == 2)
            #expect(Array(line[0].bytes(in: buffer)) == [0x67, 0xFF])
            #expect(Array(line[1].bytes(in: buffer)) == [0x80])
        }
    }

    @Test func nulEndsTheLine() {
        withTokens(bytes("a b") + [0] + bytes("c d")) { line, buffer in
            #expect(words(line, buffer) == ["a", "b"])
            #expect(line.end == 3)
        }
        withTokens(bytes("ab") + [0]) { line, _ in
            #expect(line.realCount == 1)
            #expect(line.end == 2)
        }
        withTokens([0] + bytes("abc")) { line, _ in
            #expect(line.count == 1)
            #expect(line.end == 0)
        }
    }

    @Test func respectsStartAndEnd() {
        let text = bytes("xxxset k 0\r\nyyy")
        withTokens(text, start: 3, end: 10) { line, buffer in
            #expect(words(line, buffer) == ["set", "k", "0"])
            #expect(line[0].offset == 3)
            #expect(line.end == 10)
        }
        withTokens(text, start: 3, end: 3) { line, _ in
            #expect(line.count == 1)
            #expect(line.end == 3)
        }
    }

    @Test func twentyThreeTokensFit() {
        let text = (1...23).map(String.init).joined(separator: " ")
        withTokens(bytes(text)) { line, buffer in
            #expect(TokenizedLine.maximumTokens == 24)
            #expect(line.count == 24)
            #expect(line.remainder == nil)
            #expect(words(line, buffer).last == "23")
        }
    }

    @Test(arguments: [24, 25, 30, 1000])
    func moreTokensLeaveARemainder(tokens: Int) {
        let text = (1...tokens).map(String.init).joined(separator: "  ") + "  "
        withTokens(bytes(text)) { line, buffer in
            #expect(line.count == 24)
            #expect(line.realCount == 23)
            #expect(words(line, buffer).last == "23")
            let offsetOf24 = ((1...23).map(String.init).joined(separator: "  ") + "  ").utf8.count
            #expect(line.remainder == offsetOf24)
            #expect(line.end == text.utf8.count)
        }
    }

    @Test func noreplyIsTheLastRealToken() {
        func quiet(_ text: String) -> Bool { withTokens(bytes(text)) { line, buffer in line.endsWithNoreply(buffer) } }
        #expect(quiet("set k 0 0 1 noreply"))
        #expect(quiet("delete k noreply   "))
        #expect(quiet("noreply"))
        #expect(!quiet("set k 0 0 1 noreply x"))
        #expect(!quiet("set k 0 0 1 NOREPLY"))
        #expect(!quiet("set k 0 0 1 noreplyy"))
        #expect(!quiet("set k 0 0 1 norepl"))
        #expect(!quiet(""))
        #expect(!quiet((1...30).map(String.init).joined(separator: " ") + " noreply"))
    }

    @Test func equalsComparesWholeTokens() {
        withTokens(bytes("get gets ge")) { line, buffer in
            #expect(TokenizedLine.equals(buffer, line[0], "get"))
            #expect(!TokenizedLine.equals(buffer, line[0], "gets"))
            #expect(!TokenizedLine.equals(buffer, line[1], "get"))
            #expect(TokenizedLine.equals(buffer, line[1], "gets"))
            #expect(!TokenizedLine.equals(buffer, line[2], "get"))
            #expect(!TokenizedLine.equals(buffer, line[0], "GET"))
            #expect(TokenizedLine.equals(buffer, ByteSpan(offset: 0, count: 0), ""))
        }
    }

    @Test func byteSpanBasics() {
        let span = ByteSpan(offset: 3, count: 4)
        #expect(span.end == 7)
        #expect(span == ByteSpan(offset: 3, count: 4))
        #expect(span != ByteSpan(offset: 3, count: 5))
        bytes("0123456789").withUnsafeBytes { buffer in
            #expect(Array(span.bytes(in: buffer)) == bytes("3456"))
            #expect(ByteSpan(offset: 10, count: 0).bytes(in: buffer).isEmpty)
        }
    }
}
