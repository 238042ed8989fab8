import Foundation
import Testing
@testable import DogpileClient

/// The shared value format: byte-exact against what dogpile.cache 1.5 writes with a JSON serializer.
@Suite struct ValueCodecTests {
    struct User: Codable, Equatable, Sendable {
        var id: Int
        var name: String
    }

    @Test func metadataIsWhatPythonJsonDumpsWrites() {
        #expect(ValueCodec.metadata(createdAt: 1764633600.123456) == #"{"ct": 1764633600.123456, "v": 2}"#)
        #expect(ValueCodec.metadata(createdAt: 1764633600) == #"{"ct": 1764633600.0, "v": 2}"#)
        #expect(ValueCodec.metadata(createdAt: 1764633600.5) == #"{"ct": 1764633600.5, "v": 2}"#)
    }

    /// `json.dumps({"id": 42, "name": "Ada"})` after the metadata, as dogpile.cache stores it
    /// (keys in sorted order here, which is also this dict's insertion order).
    @Test func wholeValueIsByteExact() throws {
        let bytes = try ValueCodec.encode(User(id: 42, name: "Ada"), createdAt: 1764633600.123456)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"ct": 1764633600.123456, "v": 2}|{"id": 42, "name": "Ada"}"#)
    }

    /// Python: `json.dumps(["a/b", "café", "😀", "\n\t\"\\", "\x7f", {"k": [1, 2, None, True, False]}])`.
    @Test func payloadSpacingAndEscapesMatchJsonDumps() throws {
        struct Nested: Codable { var k: [Int?]; var t: Bool; var f: Bool }
        enum Element: Encodable {
            case text(String)
            case nested(Nested)
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .text(let text): try container.encode(text)
                case .nested(let nested): try container.encode(nested)
                }
            }
        }
        let value: [Element] = [.text("a/b"), .text("café"), .text("😀"), .text("\n\t\"\\"), .text("\u{7F}"),
                                .nested(Nested(k: [1, 2, nil], t: true, f: false))]
        let bytes = try ValueCodec.encode(value, createdAt: 1.5)
        let expected = #"{"ct": 1.5, "v": 2}|["a/b", "caf\u00e9", "\ud83d\ude00", "\n\t\"\\", "\u007f", {"f": false, "k": [1, 2, null], "t": true}]"#
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }

    @Test func readsWhatPythonWrites() throws {
        let python = Array(#"{"ct": 1764633600.123456, "v": 2}|{"name": "Ada", "id": 42}"#.utf8)
        let decoded = try #require(try ValueCodec.decode(python, as: User.self))
        #expect(decoded.value == User(id: 42, name: "Ada"))
        #expect(decoded.createdAt == 1764633600.123456)
        // Compact metadata, other spacing, and a `|` inside the payload.
        let compact = Array(#"{"v":2,"ct":1}|"a|b""#.utf8)
        #expect(try ValueCodec.decode(compact, as: String.self)?.value == "a|b")
        // Non-ASCII escapes from Python decode to the characters.
        #expect(try ValueCodec.decode(Array(#"{"ct": 1.0, "v": 2}|"caf\u00e9""#.utf8), as: String.self)?.value == "café")
    }

    @Test(arguments: [#"{"ct": 1.0, "v": 1}|1"#, #"{"ct": 1.0, "v": 2}|{nope"#, #"no bar"#, #"{"ct": 1.0|1"#, #"[1, 2]|1"#, #"{"v": true}|1"#, #"{"v": 2.5}|1"#, "|1"])
    func otherFormatsAreNoValue(_ text: String) throws {
        #expect(try ValueCodec.decode(Array(text.utf8), as: Int.self) == nil)
    }

    @Test func aPayloadOfAnotherTypeThrows() {
        #expect(throws: DogpileClientError.self) {
            try ValueCodec.decode(Array(#"{"ct": 1.0, "v": 2}|"text""#.utf8), as: Int.self)
        }
    }

    @Test func roundTrip() throws {
        let user = User(id: 7, name: "Grace \"G\" Hopper ✓")
        let decoded = try #require(try ValueCodec.decode(ValueCodec.encode(user), as: User.self))
        #expect(decoded.value == user)
        #expect(abs(decoded.createdAt - Date().timeIntervalSince1970) < 60)
    }
}
