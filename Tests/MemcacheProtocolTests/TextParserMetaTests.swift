import MemcacheProtocol
import Testing

/// The meta commands' parse-time rules, as memcached 1.6.18 answers them (each expectation was
/// checked against Debian's memcached 1.6.18).
@Suite("TextParser: meta commands")
struct TextParserMetaTests {
    /// What one meta line decoded to: the request with its spans resolved.
    struct Meta: Equatable {
        var verb: MetaVerb
        var key: String
        var flags: MetaFlags
        var flagTokens: [String]
        var data: String
        var tooLarge: Bool
    }

    /// Parses one request (line and data block) and resolves a meta request's spans.
    func meta(_ text: String) -> Meta? {
        var parser = TextParser()
        let input = bytes(text)
        return input.withUnsafeBytes { buffer -> Meta? in
            guard case .command(.meta(let request), _) = parser.parse(buffer) else { return nil }
            func s(_ span: ByteSpan) -> String { String(decoding: span.bytes(in: buffer), as: UTF8.self) }
            return Meta(
                verb: request.verb, key: s(request.key), flags: request.flags,
                flagTokens: request.tokens(in: buffer).map(s), data: s(request.data), tooLarge: request.tooLarge)
        }
    }

    @Test func noopTakesAnything() {
        #expect(decode("mn\r\n") == [.other("metaNoop")])
        #expect(decode("mn a b c\r\n") == [.other("metaNoop")])
    }

    @Test func getFlagsAreReadWithTheirNumbers() throws {
        let request = try #require(meta("mg foo v k O123 T30 N-1 R200 C77 F5 J9 D2 Mx q u P Lpath/\r\n"))
        #expect(request.verb == .get && request.key == "foo")
        let flags = request.flags
        #expect(flags.has("v") && flags.has("k") && flags.has("O") && flags.quiet && flags.has("u"))
        #expect(flags.has("P") && flags.has("L") && !flags.has("s") && !flags.base64Key)
        #expect(flags.ttl == 30 && flags.vivifyTTL == -1 && flags.recacheTTL == 200)
        #expect(flags.compareCAS == 77 && flags.clientFlags == 5 && flags.initial == 9 && flags.delta == 2)
        #expect(flags.mode == UInt8(ascii: "x"))
        #expect(request.flagTokens == ["v", "k", "O123", "T30", "N-1", "R200", "C77", "F5", "J9", "D2", "Mx", "q", "u", "P", "Lpath/"])
    }

    @Test func getWithoutFlagsIsValid() throws {
        let request = try #require(meta("mg foo\r\n"))
        #expect(request.flags == MetaFlags() && request.flagTokens.isEmpty)
    }

    @Test func flagErrorsFollowMemcachedsPreparse() {
        let cases: [(String, String)] = [
            ("mg\r\n", "ERROR"),
            ("mg \r\n", "ERROR"),
            ("mz foo\r\n", "ERROR"),
            ("mg foo v v\r\n", "CLIENT_ERROR duplicate flag"),
            ("mg foo \u{7f}\r\n", "CLIENT_ERROR duplicate flag"),
            ("mg foo x\r\n", "CLIENT_ERROR invalid flag"),
            ("mg foo S\r\n", "CLIENT_ERROR invalid flag"),
            ("mg foo Nx\r\n", "CLIENT_ERROR bad token in command line format"),
            ("mg foo C\r\n", "CLIENT_ERROR bad token in command line format"),
            ("mg foo F\r\n", "CLIENT_ERROR bad command line format"),
            ("mg foo Jx\r\n", "CLIENT_ERROR invalid numeric initial value"),
            ("mg foo Dx\r\n", "CLIENT_ERROR invalid numeric delta value"),
            ("mg foo M\r\n", "CLIENT_ERROR incorrect length for M token"),
            // The scan goes on after a bad number: the last message wins; F keeps the one before.
            ("mg foo Nx Tx Mxy\r\n", "CLIENT_ERROR incorrect length for M token"),
            ("mg foo Mxy Fx\r\n", "CLIENT_ERROR incorrect length for M token"),
            ("mg foo Mxy Fx zz\r\n", "CLIENT_ERROR invalid flag"),
            ("mg Zm9 b\r\n", "CLIENT_ERROR error decoding key"),
            ("mg foo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\r\n", "CLIENT_ERROR options flags are too long"),
            ("mg foo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\r\n", "CLIENT_ERROR invalid flag"),
            ("md foo x\r\n", "CLIENT_ERROR invalid or duplicate flag"),
            ("md foo Tx\r\n", "CLIENT_ERROR invalid or duplicate flag"),
            ("md foo O123456789012345678901234567890123\r\n", "CLIENT_ERROR opaque token too long"),
            ("ma foo D18446744073709551616\r\n", "CLIENT_ERROR invalid or duplicate flag"),
            ("ma foo MX\r\n", "CLIENT_ERROR invalid mode for ma M token"),
            ("ma foo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\r\n", "CLIENT_ERROR options flags too long"),
            ("me\r\n", "CLIENT_ERROR bad command line format"),
            ("me foo b\r\n", "CLIENT_ERROR bad command line format"),
            ("ms foo\r\n", "CLIENT_ERROR bad command line format"),
            ("ms foo x\r\n", "CLIENT_ERROR bad command line format"),
            ("ms foo -1\r\n", "CLIENT_ERROR bad command line format"),
        ]
        for (line, reply) in cases {
            #expect(decode(line) == [.failure(reply)], "\(line.debugDescription)")
        }
        let long = String(repeating: "K", count: 251)
        for verb in ["mg", "md", "ma", "me"] {
            #expect(decode("\(verb) \(long) v\r\n") == [.badFormat])
        }
        #expect(meta("mg \(String(repeating: "K", count: 250)) v\r\n") != nil)
    }

    @Test func anOverlongOpaqueInGetIsLeftToTheExecutor() {
        // memcached finds it only while writing the reply, after T/N took effect.
        #expect(meta("mg foo T30 O123456789012345678901234567890123\r\n") != nil)
        #expect(meta("ma foo O123456789012345678901234567890123\r\n") != nil)
    }

    @Test func setReadsItsDataBlock() throws {
        let request = try #require(meta("ms foo 2 T100 F5 c k O1\r\nhi\r\n"))
        #expect(request.verb == .set && request.key == "foo" && request.data == "hi" && !request.tooLarge)
        #expect(request.flags.ttl == 100 && request.flags.clientFlags == 5)
        #expect(request.flagTokens == ["T100", "F5", "c", "k", "O1"])
    }

    @Test func setErrorsAfterTheLengthSwallowTheBlock() {
        let cases: [(String, String)] = [
            ("ms foo 2 T\r\nhi\r\n", "CLIENT_ERROR bad token in command line format"),
            ("ms foo 2 Fx\r\nhi\r\n", "CLIENT_ERROR bad command line format"),
            ("ms foo 2 zz\r\nhi\r\n", "CLIENT_ERROR invalid flag"),
            ("ms foo 2 S2\r\nhi\r\n", "CLIENT_ERROR invalid flag"),
            ("ms foo 2 MX\r\nhi\r\n", "CLIENT_ERROR invalid mode for ms M token"),
            ("ms foo 2 MXY\r\nhi\r\n", "CLIENT_ERROR incorrect length for M token"),
            ("ms foo 2 b\r\nhi\r\n", "CLIENT_ERROR error decoding key"),
            // A bad mode is found before an over-long opaque.
            ("ms foo 2 O123456789012345678901234567890123 MX\r\nhi\r\n", "CLIENT_ERROR invalid mode for ms M token"),
            ("ms foo 2 O123456789012345678901234567890123\r\nhi\r\n", "CLIENT_ERROR opaque token too long"),
        ]
        for (line, reply) in cases {
            #expect(decode(line + "mn\r\n") == [.failure(reply), .skipped(4), .other("metaNoop")], "\(line.debugDescription)")
        }
        // Before the length is known, nothing is swallowed: the data line is a command.
        #expect(decode("ms foo x\r\nmn\r\n") == [.badFormat, .other("metaNoop")])
    }

    @Test func setBadDataChunkIsNeverQuiet() {
        #expect(decode("ms foo 2 q\r\nhixx\r\n") == [.badDataChunk(noreply: false), .error])
    }

    @Test func setTooLargeSwallowsTheBlock() {
        var limits = TextParser.Limits()
        limits.itemSizeLimit = 1024
        var harness = ParserHarness(limits: limits)
        harness.feed("ms foo 2000 T1\r\n" + String(repeating: "x", count: 2000) + "\r\nmn\r\n")
        #expect(harness.commands.count == 2)
        #expect(harness.commands.last == .other("metaNoop"))
        if case .other(let text) = harness.commands.first { #expect(text.contains("tooLarge: true")) } else { Issue.record("not a meta request") }
    }

    @Test func setDataMayArriveInPieces() {
        var harness = ParserHarness()
        harness.feed("ms foo 5 c\r\nhe")
        harness.feed("llo\r")
        harness.feed("\nmn\r\n")
        #expect(harness.commands.count == 2)
        #expect(harness.commands.last == .other("metaNoop"))
    }

    @Test func debugTakesAnOptionalBase64Flag() throws {
        #expect(try #require(meta("me foo\r\n")).flags.base64Key == false)
        #expect(try #require(meta("me Zm9v b\r\n")).flags.base64Key)
        // Only a lone `b` right after the key counts; anything else is ignored.
        #expect(try #require(meta("me foo x\r\n")).flags.base64Key == false)
        #expect(try #require(meta("me foo bb\r\n")).flags.base64Key == false)
    }
}
