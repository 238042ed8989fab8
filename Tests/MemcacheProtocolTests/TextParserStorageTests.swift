import Dogpile
import MemcacheProtocol
import Testing

/// Storage lines, their data blocks, the size limit and incremental delivery (spec §3).
@Suite("TextParser: storage and data blocks")
struct TextParserStorageTests {
    // MARK: - Malformed numbers: CLIENT_ERROR, and the data line runs as a command

    @Test(arguments: [
        "set k -1 0 7", "set k abc 0 7", "set k 1x 0 7", "set k 0x10 0 7", "set k 18446744073709551616 0 7",
        "set k 0 abc 7", "set k 0 9223372036854775808 7", "set k 0 1x 7",
        "set k 0 0 -1", "set k 0 0 abc", "set k 0 0 2147483646", "set k 0 0 2147483648", "set k 0 0 7x",
        "cas k 0 0 7 abc", "cas k 0 0 7 -1", "cas k 0 0 7 18446744073709551616",
        "append k abc 0 7", "prepend k 0 abc 7", "add k 0 0 -5", "replace k x 0 7",
    ])
    func malformedNumbersDoNotSwallowTheData(line: String) {
        #expect(decode(line + "\r\nversion\r\n") == [.badFormat, .version])
    }

    @Test(arguments: [
        ("4294967295", UInt32(4_294_967_295)), ("4294967296", 0), ("4294967301", 5), ("010", 10), ("+5", 5),
        ("-0", 0), ("-18446744073709551615", 1), ("18446744073709551615", 4_294_967_295),
    ] as [(String, UInt32)])
    func flagsFollowStrtoulThenTruncate(token: String, flags: UInt32) {
        #expect(decode("set k \(token) 0 7\r\nversion\r\n") == [.set("k", "version", flags: flags)])
    }

    @Test(arguments: [
        ("-1", Int32(-1)), ("2147483648", Int32.min), ("4294967296", 0), ("2592000", 2_592_000),
        ("-9223372036854775808", 0), ("9223372036854775807", -1), ("+3", 3),
    ] as [(String, Int32)])
    func exptimeFollowsStrtolThenTruncate(token: String, exptime: Int32) {
        #expect(decode("set k 0 \(token) 7\r\nversion\r\n") == [.set("k", "version", exptime: exptime)])
    }

    @Test(arguments: ["4294967303", "+7", "07", "7\r", "   7"])
    func lengthVariantsThatMeanSeven(token: String) {
        #expect(decode("set k 0 0 \(token)\r\nversion\r\n") == [.set("k", "version")])
    }

    @Test func arityComesBeforeNoreply() {
        #expect(decode("set k 0 0 7 noreply x\r\nversion\r\n") == [.error, .version])
        #expect(decode("set k 0 0\r\nversion\r\n") == [.error, .version])
        #expect(decode("cas k 0 0 1\r\nb\r\n") == [.error, .error])
    }

    @Test func malformedLineConsumesOnlyTheLine() {
        var harness = ParserHarness()
        let steps = harness.feed("set k abc 0 1\r\na\r\n")
        #expect(steps == [
            Step(decoded: .badFormat, consumed: 15),
            Step(decoded: .error, consumed: 3),
            Step(decoded: .needMore(0), consumed: 0),
        ])
    }

    // MARK: - Item size limit

    @Test func itemFitsCountsLikeMemcached() {
        let limits = TextParser.Limits()
        #expect(limits.maximumKeyLength == 250)
        #expect(limits.maximumLineWithoutNewline == 2048)
        #expect(limits.itemSizeLimit == 1_048_576)
        #expect(limits.itemFits(keyLength: 1, flags: 0, valueLength: 1_048_516))
        #expect(!limits.itemFits(keyLength: 1, flags: 0, valueLength: 1_048_517))
        #expect(limits.itemFits(keyLength: 1, flags: 1, valueLength: 1_048_512))
        #expect(!limits.itemFits(keyLength: 1, flags: 1, valueLength: 1_048_513))
        #expect(limits.itemFits(keyLength: 10, flags: 0, valueLength: 1_048_507))
        #expect(!limits.itemFits(keyLength: 10, flags: 0, valueLength: 1_048_508))
    }

    @Test func largestItemWaitsForItsWholeDataBlock() {
        let line = "set k 0 0 1048516\r\n"
        #expect(decode(line) == [.needMore(line.utf8.count + 1_048_518)])
        let flagged = "set k 1 0 1048512\r\n"
        #expect(decode(flagged) == [.needMore(flagged.utf8.count + 1_048_514)])
        let value = [UInt8](repeating: 0x41, count: 1_048_516)
        let result = decode(bytes(line) + value + bytes("\r\n"))
        #expect(result == [.storage(.set, key: bytes("k"), flags: 0, exptime: 0, cas: 0, data: value, noreply: false)])
    }

    @Test func tooLargeIsReportedThenSwallowed() {
        var harness = ParserHarness()
        let line = "set k 0 0 1048517\r\n"
        #expect(harness.feed(line) == [
            Step(decoded: .tooLarge(key: bytes("k"), verb: .set, noreply: false), consumed: line.utf8.count),
            Step(decoded: .needMore(0), consumed: 0),
        ])
        // The data block arrives in pieces; exactly 1048519 bytes are swallowed, whatever they are.
        var data = [UInt8](repeating: 0x0A, count: 1_048_519)
        data[0] = 0x0D
        var skipped = 0
        for chunk in stride(from: 0, to: data.count, by: 100_000) {
            for step in harness.feed(Array(data[chunk..<min(data.count, chunk + 100_000)])) {
                if case .skipped(let n) = step.decoded { skipped += n }
            }
        }
        #expect(skipped == 1_048_519)
        harness.feed("version\r\n")
        #expect(harness.commands == [.tooLarge(key: bytes("k"), verb: .set, noreply: false), .version])
    }

    @Test func tooLargeWithFlagsAndLongKeys() {
        #expect(decode("set k 1 0 1048513\r\n") == [.tooLarge(key: bytes("k"), verb: .set, noreply: false)])
        let key = "0123456789"
        #expect(decode("add \(key) 0 0 1048508 noreply\r\n") == [.tooLarge(key: bytes(key), verb: .add, noreply: true)])
        #expect(decode("set k 0 0 2147483645\r\n") == [.tooLarge(key: bytes("k"), verb: .set, noreply: false)])
    }

    @Test func swallowingWithSmallLimitsSpansSeveralCalls() {
        var limits = TextParser.Limits()
        limits.itemSizeLimit = 100  // key "k": values of up to 40 bytes fit
        #expect(limits.itemFits(keyLength: 1, flags: 0, valueLength: 40))
        #expect(!limits.itemFits(keyLength: 1, flags: 0, valueLength: 41))
        var harness = ParserHarness(limits: limits)
        harness.feed("set k 0 0 41\r\n" + String(repeating: "x", count: 10))
        harness.feed(String(repeating: "\r\n", count: 10))
        harness.feed("yyyyyyyyyyy\r\nversion\r\ncas k 0 0 40 3\r\n" + String(repeating: "z", count: 40) + "\r\n")
        let skips = harness.steps.compactMap { step -> Int? in
            if case .skipped(let n) = step.decoded { return n } else { return nil }
        }
        #expect(skips == [10, 20, 13])
        #expect(harness.commands == [
            .tooLarge(key: bytes("k"), verb: .set, noreply: false), .version,
            .storage(.cas, key: bytes("k"), flags: 0, exptime: 0, cas: 3, data: Array(repeating: 0x7A, count: 40), noreply: false),
        ])
    }

    // MARK: - Bad data chunks consume exactly bytes + 2

    @Test func badDataChunks() {
        #expect(decode("set k 0 0 3\r\nabcde\r\nversion\r\n") == [.badDataChunk(noreply: false), .error, .version])
        #expect(decode("set k 0 0 3\r\nabcd\r\nversion\r\n") == [.badDataChunk(noreply: false), .error, .version])
        #expect(decode("set k 0 0 3\r\nabc\nversion\r\n") == [.badDataChunk(noreply: false), .error])
        #expect(decode("set k 0 0 3\r\nabcxxversion\r\n") == [.badDataChunk(noreply: false), .version])
        #expect(decode("set k 0 0 3 noreply\r\nabcde\r\nversion\r\n") == [.badDataChunk(noreply: true), .error, .version])
        #expect(decode("cas k 0 0 1 1 noreply\r\nabc\r\nversion\r\n") == [.badDataChunk(noreply: true), .error, .version])
        #expect(decode("set k 0 0 1\r\nabc") == [.badDataChunk(noreply: false)])
        // A bare \n does not terminate a data block.
        #expect(decode("set k 0 0 1\r\na\nversion\r\n") == [.badDataChunk(noreply: false), .error])
        // Only the \r\n position matters: a \r\n inside the block is data.
        #expect(decode("set k 0 0 4\r\na\r\nb\r\n") == [.set("k", "a\r\nb")])
    }

    @Test func badDataChunkConsumedCount() {
        var harness = ParserHarness()
        #expect(harness.feed("set k 0 0 3\r\nabcde\r\n") == [
            Step(decoded: .badDataChunk(noreply: false), consumed: 13 + 5),
            Step(decoded: .error, consumed: 2),
            Step(decoded: .needMore(0), consumed: 0),
        ])
    }

    // MARK: - Incremental delivery

    @Test func needMoreDataHintsTheWholeRequestSize() {
        var harness = ParserHarness()
        #expect(harness.feed("set k 0 0 5\r\n") == [Step(decoded: .needMore(20), consumed: 0)])
        #expect(harness.feed("he") == [Step(decoded: .needMore(20), consumed: 0)])
        #expect(harness.feed("llo\r") == [Step(decoded: .needMore(20), consumed: 0)])
        #expect(harness.feed("\nget k") == [
            Step(decoded: .set("k", "hello"), consumed: 20),
            Step(decoded: .needMore(0), consumed: 0),
        ])
        #expect(harness.feed("\r\n") == [Step(decoded: .get("k"), consumed: 7), Step(decoded: .needMore(0), consumed: 0)])
        // A line without its newline yet gives no size hint.
        #expect(harness.feed("set k 0 0 5") == [Step(decoded: .needMore(0), consumed: 0)])
    }

    @Test func emptyBufferNeedsMoreData() {
        var parser = TextParser()
        let empty: [UInt8] = []
        empty.withUnsafeBytes { buffer in
            guard case .needMoreData(let size) = parser.parse(buffer) else {
                Issue.record("expected needMoreData"); return
            }
            #expect(size == 0)
        }
    }

    static let stream: [UInt8] = {
        var s = bytes("set alpha 1 0 5\r\nhello\r\nget alpha beta\r\nappend alpha 0 0 3 noreply\r\n\r\nx\r\n")
        s += bytes("cas k 0 0 2000 77\r\n") + [UInt8](repeating: 0x5A, count: 2000) + bytes("\r\n")
        s += bytes("set bad 0 0 3\r\nabcde\r\nincr n 5\r\n\ndelete alpha noreply\r\ngat 10 a b c\r\n")
        s += bytes("set z 0 0 0\r\n\r\nflush_all 3\r\nset k abc 0 2\r\nab\r\nversion\r\nquit\r\n")
        return s
    }()

    @Test func oneByteAtATimeDecodesIdentically() {
        let whole = decodeCommands(Self.stream, chunks: [Self.stream.count])
        #expect(whole.count == 16)
        #expect(decodeCommands(Self.stream, chunks: Array(repeating: 1, count: Self.stream.count)) == whole)
    }

    @Test(arguments: 1...20)
    func randomSplitsDecodeIdentically(seed: Int) {
        let whole = decodeCommands(Self.stream, chunks: [Self.stream.count])
        var random = SplitMix64(seed: UInt64(seed))
        var sizes: [Int] = []
        var total = 0
        while total < Self.stream.count {
            let size = Int.random(in: 1...64, using: &random) * (Bool.random(using: &random) ? 1 : 40)
            sizes.append(size)
            total += size
        }
        #expect(decodeCommands(Self.stream, chunks: sizes) == whole)
    }

    @Test func storageOneByteAtATimeHasStableHints() {
        let input = bytes("set key 3 4 10 noreply\r\n0123456789\r\n")
        var harness = ParserHarness()
        var hints: Set<Int> = []
        for byte in input.dropLast() {
            for step in harness.feed([byte]) {
                if case .needMore(let size) = step.decoded, size > 0 { hints.insert(size) }
            }
        }
        #expect(hints == [input.count])
        harness.feed([input.last!])
        #expect(harness.commands == [.set("key", "0123456789", flags: 3, exptime: 4, noreply: true)])
        #expect(harness.pending.isEmpty)
    }
}
