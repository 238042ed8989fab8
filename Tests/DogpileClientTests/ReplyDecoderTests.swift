import Dogpile
import Testing
@testable import DogpileClient

/// The sans-I/O decoder: every reply shape, every split point, garbage.
@Suite struct ReplyDecoderTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Every shape of reply the daemon sends, with what it decodes to.
    static let samples: [(String, Reply)] = [
        ("STORED\r\n", .status(.stored)),
        ("NOT_STORED\r\n", .status(.notStored)),
        ("EXISTS\r\n", .status(.exists)),
        ("NOT_FOUND\r\n", .status(.notFound)),
        ("DELETED\r\n", .status(.deleted)),
        ("TOUCHED\r\n", .status(.touched)),
        ("OK\r\n", .status(.ok)),
        ("RESET\r\n", .status(.reset)),
        ("UNLOCKED\r\n", .status(.unlocked)),
        ("RENEWED\r\n", .status(.renewed)),
        ("RELEASED\r\n", .status(.released)),
        ("NOT_OWNER\r\n", .status(.notOwner)),
        ("BUSY\r\n", .status(.busy)),
        ("LOCKED 1883422112888127489\r\n", .locked(token: 1_883_422_112_888_127_489)),
        ("GEN 18446744073709551615\r\n", .values([], .generate(token: .max))),
        ("END\r\n", .values([], .end)),
        ("0\r\n", .number(0)),
        ("18446744073709551615\r\n", .number(.max)),
        ("VERSION 1.6.18\r\n", .version("1.6.18")),
        ("ERROR\r\n", .error),
        ("CLIENT_ERROR bad command line format\r\n", .clientError("bad command line format")),
        ("CLIENT_ERROR bad data chunk\r\n", .clientError("bad data chunk")),
        ("SERVER_ERROR too many locks\r\n", .serverError("too many locks")),
        ("SERVER_ERROR out of memory storing object\r\n", .serverError("out of memory storing object")),
        ("SERVER_ERROR shutting down\r\n", .serverError("shutting down")),
        ("SERVER_ERROR object too large for cache\r\n", .serverError("object too large for cache")),
        ("VALUE k 5 3\r\nabc\r\nEND\r\n", .values([CacheItem(key: "k", flags: 5, data: bytes("abc"), cas: nil)], .end)),
        ("VALUE k 0 3 99\r\nabc\r\nEND\r\n", .values([CacheItem(key: "k", flags: 0, data: bytes("abc"), cas: 99)], .end)),
        ("VALUE e 0 0\r\n\r\nEND\r\n", .values([CacheItem(key: "e", flags: 0, data: [], cas: nil)], .end)),
        // Data that looks like protocol lines is data: its length decides.
        ("VALUE t 4294967295 7\r\n\r\nEND\r\n\r\nEND\r\n",
         .values([CacheItem(key: "t", flags: .max, data: bytes("\r\nEND\r\n"), cas: nil)], .end)),
        ("VALUE a 1 1 1\r\nx\r\nVALUE b 2 2 2\r\nyy\r\nEND\r\n",
         .values([CacheItem(key: "a", flags: 1, data: bytes("x"), cas: 1), CacheItem(key: "b", flags: 2, data: bytes("yy"), cas: 2)], .end)),
        ("VALUE user:42 0 2 7\r\nhi\r\nHIT\r\n", .values([CacheItem(key: "user:42", flags: 0, data: bytes("hi"), cas: 7)], .hit)),
        ("VALUE user:42 0 2 7\r\nhi\r\nSTALE\r\n", .values([CacheItem(key: "user:42", flags: 0, data: bytes("hi"), cas: 7)], .stale)),
        ("VALUE user:42 0 2 7\r\nhi\r\nGEN 12\r\n", .values([CacheItem(key: "user:42", flags: 0, data: bytes("hi"), cas: 7)], .generate(token: 12))),
        ("STAT pid 12\r\nSTAT version 1.6.18\r\nSTAT user:memory_limit 8388608\r\nEND\r\n",
         .stats([ReplyStat(name: "pid", value: "12"), ReplyStat(name: "version", value: "1.6.18"),
                 ReplyStat(name: "user:memory_limit", value: "8388608")])),
        ("STAT empty \r\nSTAT spaced a b c\r\nEND\r\n", .stats([ReplyStat(name: "empty", value: ""), ReplyStat(name: "spaced", value: "a b c")])),
        // A bare \n ends lines too.
        ("STORED\n", .status(.stored)),
        ("VALUE k 0 1\nz\r\nEND\n", .values([CacheItem(key: "k", flags: 0, data: bytes("z"), cas: nil)], .end)),
        // An error line ends a reply, even after VALUE blocks.
        ("VALUE k 0 1\r\nz\r\nSERVER_ERROR out of memory writing get response\r\n", .serverError("out of memory writing get response")),
    ]

    @Test func everyShapeDecodesWhole() {
        for (text, expected) in Self.samples {
            var decoder = ReplyDecoder()
            let input = Self.bytes(text)
            #expect(decoder.decode(input) == .reply(expected, consumed: input.count), "\(text.debugDescription)")
        }
    }

    @Test func everySplitPointNeedsMoreBytesUntilTheLast() {
        for (text, expected) in Self.samples {
            let input = Self.bytes(text)
            // A fresh decoder on each prefix.
            for cut in 0..<input.count {
                var decoder = ReplyDecoder()
                #expect(decoder.decode(Array(input[..<cut])) == .needMoreBytes, "\(text.debugDescription) cut at \(cut)")
            }
            // One decoder fed a growing buffer (it resumes past the blocks it has read).
            var decoder = ReplyDecoder()
            for cut in 0..<input.count {
                #expect(decoder.decode(Array(input[..<cut])) == .needMoreBytes)
            }
            #expect(decoder.decode(input) == .reply(expected, consumed: input.count))
        }
    }

    @Test func pipelinedRepliesComeOneAtATime() {
        let all = Self.samples.flatMap { Self.bytes($0.0) }
        var decoder = ReplyDecoder()
        var offset = 0
        for (text, expected) in Self.samples {
            let step = decoder.decode(Array(all[offset...]))
            #expect(step == .reply(expected, consumed: text.utf8.count))
            offset += text.utf8.count
        }
        #expect(offset == all.count)
        #expect(decoder.decode([]) == .needMoreBytes)
    }

    @Test(arguments: [
        "HELLO\r\n", "VALUE k x 3\r\nabc\r\nEND\r\n", "VALUE k 0 3\r\nabcXY\r\nEND\r\n", "VALUE k 0\r\n",
        "VALUE k 0 3 1 2\r\nabc\r\nEND\r\n", "GEN\r\n", "GEN x\r\n", "LOCKED\r\n", "LOCKED -1\r\n",
        "VALUE k 0 99999999999\r\n", "VALUE k 4294967296 1\r\nz\r\nEND\r\n", "VALUE k 0 1\r\nz\r\nSTORED\r\n",
        "STAT a 1\r\nVALUE k 0 1\r\nz\r\nEND\r\n", "STAT a 1\r\nSTORED\r\n", "-1\r\n", "18446744073709551616\r\n",
        "\r\n", "stored\r\n", "STORED now\r\n",
    ])
    func garbageIsInvalid(_ text: String) {
        var decoder = ReplyDecoder()
        guard case .invalid = decoder.decode(Self.bytes(text)) else {
            Issue.record("\(text.debugDescription) was not refused: \(decoder.decode(Self.bytes(text)))")
            return
        }
        // The decoder starts afresh after refusing.
        #expect(decoder.decode(Self.bytes("OK\r\n")) == .reply(.status(.ok), consumed: 4))
    }

    @Test func anOverlongLineIsInvalidWithoutWaitingForItsEnd() {
        var decoder = ReplyDecoder()
        let long = [UInt8](repeating: UInt8(ascii: "A"), count: ReplyDecoder.maximumLineLength + 1)
        guard case .invalid = decoder.decode(long) else {
            Issue.record("an overlong line was not refused")
            return
        }
    }

    @Test func randomBytesNeverCrashAndNeverOverConsume() {
        var generator = SplitMix64(seed: 7)
        let alphabet = Array("VALUE STAT END HIT GEN STALE 0123456789 \r\n\r\nSTORED ERROR k".utf8)
        for _ in 0..<5000 {
            let count = Int(generator.next() % 64)
            let input = (0..<count).map { _ in
                generator.next() % 4 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            var decoder = ReplyDecoder()
            if case .reply(_, let consumed) = decoder.decode(input) {
                #expect(consumed > 0 && consumed <= input.count)
            }
        }
    }
}

