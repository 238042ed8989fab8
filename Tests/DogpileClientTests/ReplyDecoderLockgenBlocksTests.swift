import Dogpile
import Testing
@testable import DogpileClient

/// The decoder's `mlockgen` mode: every block shape, every split point, garbage.
@Suite struct ReplyDecoderLockgenBlocksTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    static func item(_ key: String, _ data: String, cas: UInt64) -> CacheItem {
        CacheItem(key: key, flags: 0, data: bytes(data), cas: cas)
    }

    /// Every shape of `mlockgen` reply, with what it decodes to.
    static let samples: [(String, Reply)] = [
        ("END\r\n", .lockgenBlocks([])),
        ("MISS\r\nEND\r\n", .lockgenBlocks([.miss])),
        ("GEN 12\r\nEND\r\n", .lockgenBlocks([.generate(token: 12, item: nil)])),
        ("VALUE a 0 2 7\r\nhi\r\nHIT\r\nEND\r\n", .lockgenBlocks([.hit(item("a", "hi", cas: 7))])),
        ("VALUE a 0 2 7\r\nhi\r\nSTALE\r\nEND\r\n", .lockgenBlocks([.stale(item("a", "hi", cas: 7))])),
        ("VALUE a 0 2 7\r\nhi\r\nGEN 18446744073709551615\r\nEND\r\n",
         .lockgenBlocks([.generate(token: .max, item: item("a", "hi", cas: 7))])),
        ("SERVER_ERROR too many locks\r\nEND\r\n", .lockgenBlocks([.serverError("too many locks")])),
        // Data that looks like protocol lines is data.
        ("VALUE a 0 14 1\r\nEND\r\nMISS\r\nHIT\r\nGEN 5\r\nVALUE b 0 0 2\r\n\r\nGEN 6\r\nMISS\r\nSERVER_ERROR shutting down\r\n"
         + "VALUE c 0 3 3\r\nold\r\nSTALE\r\nEND\r\n",
         .lockgenBlocks([.generate(token: 5, item: item("a", "END\r\nMISS\r\nHIT", cas: 1)),
                         .generate(token: 6, item: item("b", "", cas: 2)), .miss, .serverError("shutting down"),
                         .stale(item("c", "old", cas: 3))])),
        // An error line for the whole request.
        ("CLIENT_ERROR bad command line format\r\n", .clientError("bad command line format")),
        ("ERROR\r\n", .error),
    ]

    static func decoder() -> ReplyDecoder {
        var decoder = ReplyDecoder()
        decoder.mode = .lockgenBlocks
        return decoder
    }

    @Test func everyShapeDecodes() {
        for (text, expected) in Self.samples {
            var decoder = Self.decoder()
            let input = Self.bytes(text)
            #expect(decoder.decode(input) == .reply(expected, consumed: input.count), "\(text.debugDescription)")
        }
    }

    @Test func everySplitPointNeedsMoreBytesUntilTheLast() {
        for (text, expected) in Self.samples {
            let input = Self.bytes(text)
            for cut in 0..<input.count {
                var decoder = Self.decoder()
                #expect(decoder.decode(Array(input[..<cut])) == .needMoreBytes, "\(text.debugDescription) cut at \(cut)")
            }
            // One decoder fed a growing buffer resumes past the blocks it has read.
            var decoder = Self.decoder()
            for cut in 0..<input.count {
                #expect(decoder.decode(Array(input[..<cut])) == .needMoreBytes, "\(text.debugDescription) cut at \(cut)")
            }
            #expect(decoder.decode(input) == .reply(expected, consumed: input.count))
        }
    }

    /// A pipeline that mixes `mlockgen` with other replies, the mode set per reply as the
    /// ReplyHandler does; every two-piece split gives the same replies.
    @Test func pipelinedWithOtherRepliesAtEverySplit() {
        let stream: [(ReplyDecoder.Mode, String, Reply)] = [
            (.reply, "GEN 3\r\n", .values([], .generate(token: 3))),
            (.lockgenBlocks, "GEN 4\r\nMISS\r\nEND\r\n", .lockgenBlocks([.generate(token: 4, item: nil), .miss])),
            (.reply, "STORED\r\n", .status(.stored)),
            (.lockgenBlocks, "VALUE k 0 1 9\r\nz\r\nHIT\r\nEND\r\n", .lockgenBlocks([.hit(Self.item("k", "z", cas: 9))])),
            (.reply, "END\r\n", .values([], .end)),
        ]
        let all = stream.flatMap { Self.bytes($0.1) }
        for cut in 0...all.count {
            var decoder = ReplyDecoder()
            var start = 0
            var index = 0
            var replies: [Reply] = []
            for end in [cut, all.count] where end >= start {
                while index < stream.count {
                    decoder.mode = stream[index].0
                    guard case .reply(let reply, let consumed) = decoder.decode(Array(all[start..<end])) else { break }
                    replies.append(reply)
                    start += consumed
                    index += 1
                }
            }
            #expect(replies == stream.map(\.2), "cut at \(cut)")
        }
    }

    @Test(arguments: [
        "HIT\r\nEND\r\n", "STALE\r\nEND\r\n", "VALUE k 0 1 1\r\nz\r\nEND\r\n", "VALUE k 0 1 1\r\nz\r\nMISS\r\n",
        "VALUE k 0 1 1\r\nz\r\nVALUE k 0 1 1\r\nz\r\nHIT\r\n", "STORED\r\n", "MISS\r\nERROR\r\n", "GEN x\r\n",
        "VALUE k 0 1 1\r\nz\r\nSERVER_ERROR x\r\n", "MISS\r\nCLIENT_ERROR x\r\n", "VALUE k 0 1 1\r\nzz\r\nHIT\r\n",
    ])
    func garbageIsInvalid(_ text: String) {
        var decoder = Self.decoder()
        guard case .invalid = decoder.decode(Self.bytes(text)) else {
            Issue.record("\(text.debugDescription) was not refused")
            return
        }
        // The decoder starts afresh after refusing, in the mode it was in.
        #expect(decoder.decode(Self.bytes("MISS\r\nEND\r\n")) == .reply(.lockgenBlocks([.miss]), consumed: 11))
    }

    @Test func randomBytesNeverCrashAndNeverOverConsume() {
        var generator = SplitMix64(seed: 11)
        let alphabet = Array("VALUE END HIT GEN STALE MISS SERVER_ERROR 0123456789 \r\n\r\nk".utf8)
        for _ in 0..<5000 {
            let count = Int(generator.next() % 80)
            let input = (0..<count).map { _ in
                generator.next() % 4 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            var decoder = Self.decoder()
            if case .reply(_, let consumed) = decoder.decode(input) {
                #expect(consumed > 0 && consumed <= input.count)
            }
        }
    }
}
