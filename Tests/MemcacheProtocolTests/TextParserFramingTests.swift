import MemcacheProtocol
import Testing

/// Line framing, NUL truncation, the binary magic byte, HTTP request lines and the 2048-byte rule
/// (spec §0, §1, §10).
@Suite("TextParser: framing")
struct TextParserFramingTests {
    // MARK: - Line ends

    @Test func emptyLinesAreErrors() {
        var harness = ParserHarness()
        #expect(harness.feed("\r\n") == [Step(decoded: .error, consumed: 2), Step(decoded: .needMore(0), consumed: 0)])
        #expect(harness.feed("\n") == [Step(decoded: .error, consumed: 1), Step(decoded: .needMore(0), consumed: 0)])
        #expect(decode(" \r\n") == [.error])
        #expect(decode("\r\r\n") == [.error])
    }

    @Test func bareNewlineEndsALine() {
        #expect(decode("version\n") == [.version])
        #expect(decode("get a\nget b\r\n") == [.get("a"), .get("b")])
    }

    @Test func onlyTheLastCarriageReturnIsDropped() {
        #expect(decode("version\r\r\n") == [.error])
        #expect(decode("get a\r\r\n") == [.get("a\r")])
        #expect(decode("get a\rb\r\n") == [.get("a\rb")])
        #expect(decode("set k 0 0 7\r\r\nversion\r\n") == [.set("k", "version")])
    }

    @Test func pipelinedRequestsConsumeLineByLine() {
        var harness = ParserHarness()
        #expect(harness.feed("version\r\nquit\r\nversion\r\n") == [
            Step(decoded: .version, consumed: 9),
            Step(decoded: .quit, consumed: 6),
            Step(decoded: .version, consumed: 9),
            Step(decoded: .needMore(0), consumed: 0),
        ])
    }

    // MARK: - NUL bytes

    @Test func nulTruncatesTheLine() {
        #expect(decode(bytes("set k") + [0] + bytes("z 0 0 1\r\na\r\n")) == [.error, .error])
        #expect(decode(bytes("get a") + [0] + bytes("b c\r\n")) == [.get("a")])
        #expect(decode(bytes("version") + [0] + bytes("garbage\r\n")) == [.version])
        #expect(decode([0] + bytes("version\r\n")) == [.error])
        #expect(decode(bytes("get k ") + [0, 0x0A] + bytes("version\r\n")) == [.get("k"), .version])
    }

    @Test func nulLineStillConsumesThroughTheNewline() {
        var harness = ParserHarness()
        let line = bytes("delete a") + [0] + bytes(" b c d e\r\n")
        #expect(harness.feed(line) == [
            Step(decoded: .delete(key: bytes("a"), noreply: false), consumed: line.count),
            Step(decoded: .needMore(0), consumed: 0),
        ])
    }

    // MARK: - Binary protocol magic

    @Test func binaryMagicAsFirstByteCloses() {
        #expect(decode([0x80]) == [.close(.binaryProtocol)])
        var harness = ParserHarness()
        #expect(harness.feed([0x80, 0x0B, 0, 0] + bytes("\r\n")) == [Step(decoded: .close(.binaryProtocol), consumed: 0)])
        #expect(harness.closed)
    }

    @Test func emptyFirstReadDoesNotDecideTheProtocol() {
        var harness = ParserHarness()
        harness.feed([])
        #expect(harness.feed([0x80]) == [Step(decoded: .close(.binaryProtocol), consumed: 0)])
    }

    @Test func binaryMagicLaterIsText() {
        #expect(decode(bytes("version\r\n") + [0x80] + bytes("\r\n")) == [.version, .error])
        #expect(decode(bytes("get ") + [0x80] + bytes("\r\n")) == [.retrieval(.get, exptime: 0, keys: [[0x80]])])
        #expect(decode([0x81] + bytes("version\r\n")) == [.error])
        // A connection that started as text stays text even after a partial first read.
        var harness = ParserHarness()
        harness.feed("ver")
        harness.feed(bytes("sion\r\n") + [0x80] + bytes(" x\r\n"))
        #expect(harness.commands == [.version, .error])
    }

    // MARK: - HTTP

    @Test(arguments: ["GET / HTTP/1.1", "POST /x HTTP/1.0", "HEAD / HTTP/", "FOO HTTP/2"])
    func httpRequestLinesClose(line: String) {
        var harness = ParserHarness()
        let input = line + "\r\nHost: x\r\n"
        #expect(harness.feed(input) == [Step(decoded: .close(.httpRequest), consumed: line.utf8.count + 2)])
    }

    @Test func notHttp() {
        #expect(decode("FOO HTTP\r\n") == [.error])
        #expect(decode("FOO http/1.1\r\n") == [.error])
        #expect(decode("get / HTTP/1.1\r\n") == [.get("/", "HTTP/1.1")])
    }

    // MARK: - Lines without a newline (spec §1)

    @Test func upTo2048BytesWaits() {
        #expect(decode(String(repeating: "x", count: 2048)) == [])
        #expect(decode(String(repeating: "x", count: 2049)) == [.close(.lineTooLong)])
    }

    @Test func lineTooLongClosesWithoutConsuming() {
        var harness = ParserHarness()
        #expect(harness.feed(String(repeating: "x", count: 2049)) == [Step(decoded: .close(.lineTooLong), consumed: 0)])
    }

    @Test func newlineInTheSameReadIsFine() {
        #expect(decode(String(repeating: "x", count: 2049) + "\r\n") == [.error])
        #expect(decode(String(repeating: "x", count: 16382) + "\r\n") == [.error])
        let k = String(repeating: "k", count: 3000)
        #expect(decode("set \(k) 0 0 1\r\nx\r\n") == [.badFormat, .error])
    }

    @Test func dependsOnHowBytesArrive() {
        var slow = ParserHarness()
        slow.feed(String(repeating: "x", count: 2000))
        slow.feed(String(repeating: "x", count: 100) + "\r\n")
        #expect(slow.commands == [.error])
        var late = ParserHarness()
        late.feed(String(repeating: "x", count: 2049))
        #expect(late.closed)
        var set = ParserHarness()
        set.feed("set " + String(repeating: "k", count: 2100))
        #expect(set.commands == [.close(.lineTooLong)])
    }

    @Test func largeMultiGetIsExempt() {
        var get = ParserHarness()
        get.feed("get " + String(repeating: "k", count: 2100))
        #expect(!get.closed)
        get.feed("\r\n")
        #expect(get.commands == [.get(String(repeating: "k", count: 2100))])

        var gets = ParserHarness()
        gets.feed("gets " + String(repeating: "k ", count: 2000))
        #expect(!gets.closed)
        gets.feed("\r\n")
        #expect(gets.commands == [.retrieval(.gets, exptime: 0, keys: Array(repeating: bytes("k"), count: 2000))])
    }

    @Test func fiftyThousandKeysInManyReads() {
        var harness = ParserHarness()
        harness.feed("get ")
        for _ in 0..<50 { harness.feed(String(repeating: "k ", count: 1000)) }
        #expect(!harness.closed)
        harness.feed("\r\n")
        guard case .retrieval(.get, exptime: 0, keys: let keys)? = harness.commands.first else {
            Issue.record("expected a get, got \(harness.commands)"); return
        }
        #expect(keys.count == 50_000)
        #expect(keys.allSatisfy { $0 == bytes("k") })
    }

    @Test(arguments: [
        (99, false), (100, false), (101, true),
    ])
    func leadingSpacesBeforeGet(spaces: Int, closes: Bool) {
        var harness = ParserHarness()
        harness.feed(String(repeating: " ", count: spaces) + "get " + String(repeating: "k", count: 3000))
        #expect(harness.closed == closes)
    }

    @Test(arguments: ["GET ", "gat 0 ", "gats 0 ", "bget ", "get", "getx ", " gets", "delete "])
    func onlyGetAndGetsAreExempt(prefix: String) {
        var harness = ParserHarness()
        harness.feed(prefix + String(repeating: "k ", count: 1500))
        #expect(harness.commands == [.close(.lineTooLong)], "\(prefix)")
    }

    @Test func gatInOneReadWorks() {
        let line = "gat 0 " + String(repeating: "k ", count: 1500) + "\r\n"
        #expect(decode(line) == [.retrieval(.gat, exptime: 0, keys: Array(repeating: bytes("k"), count: 1500))])
    }

    @Test func customLineLimit() {
        var limits = TextParser.Limits()
        limits.maximumLineWithoutNewline = 10
        #expect(decode(bytes("0123456789"), limits: limits) == [])
        #expect(decode(bytes("0123456789a"), limits: limits) == [.close(.lineTooLong)])
        #expect(decode(bytes("get 0123456789"), limits: limits) == [])
    }

    @Test func lineLimitDoesNotApplyToDataBlocks() {
        var harness = ParserHarness()
        harness.feed("set k 0 0 5000\r\n")
        harness.feed(String(repeating: "v", count: 4000))
        #expect(!harness.closed)
        harness.feed(String(repeating: "v", count: 1000) + "\r\n")
        #expect(harness.commands == [.set("k", String(repeating: "v", count: 5000))])
    }
}
