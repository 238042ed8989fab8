import MemcacheProtocol
import Testing

/// `lockgen`'s `early` opt-in and the multi-key `mlockgen` (docs/protocol.md).
@Suite("TextParser: lock verbs")
struct TextParserLockVerbTests {
    /// A lockgen or mlockgen with its spans resolved, or the error text.
    enum Parsed: Equatable {
        case lockgen(key: String, lease: Int, wait: Int?, early: Bool)
        case multi(lease: Int, keys: [String])
        case failure(String)
        case other
    }

    func parse(_ line: String) -> Parsed {
        var parser = TextParser()
        let input = Array(line.utf8)
        return input.withUnsafeBytes { buffer in
            guard case .command(let command, _) = parser.parse(buffer) else { return .other }
            func text(_ span: ByteSpan) -> String { String(decoding: span.bytes(in: buffer), as: UTF8.self) }
            switch command {
            case .lockgen(let key, let lease, let wait, let early):
                return .lockgen(key: text(key), lease: lease, wait: wait, early: early)
            case .multiLockgen(let lease, let keys):
                return .multi(lease: lease, keys: KeyList(buffer: buffer, range: keys).map(text))
            case .failure(let reply, _):
                return .failure(String(decoding: UnsafeRawBufferPointer(start: reply.text.utf8Start, count: reply.text.utf8CodeUnitCount), as: UTF8.self))
            default:
                return .other
            }
        }
    }

    @Test func lockgenShapes() {
        #expect(parse("lockgen k 100\r\n") == .lockgen(key: "k", lease: 100, wait: nil, early: false))
        #expect(parse("lockgen k 100 5\r\n") == .lockgen(key: "k", lease: 100, wait: 5, early: false))
        #expect(parse("lockgen k 100 early\r\n") == .lockgen(key: "k", lease: 100, wait: nil, early: true))
        #expect(parse("lockgen k 100 5 early\r\n") == .lockgen(key: "k", lease: 100, wait: 5, early: true))
    }

    @Test func lockgenErrors() {
        #expect(parse("lockgen k\r\n") == .failure("ERROR"))
        #expect(parse("lockgen k 100 5 late\r\n") == .failure("ERROR"))
        #expect(parse("lockgen k 100 5 early x\r\n") == .failure("ERROR"))
        #expect(parse("lockgen k 100 soon\r\n") == .failure("CLIENT_ERROR bad command line format"))
        #expect(parse("lockgen k 0 early\r\n") == .failure("CLIENT_ERROR bad command line format"))
        #expect(parse("lockgen k 100 600001 early\r\n") == .failure("CLIENT_ERROR bad command line format"))
    }

    @Test func multiLockgen() {
        #expect(parse("mlockgen 500 a b  c\r\n") == .multi(lease: 500, keys: ["a", "b", "c"]))
        // More keys than memcached's 24 token slots: the key list is read from the line itself.
        let many = (0..<100).map { "key\($0)" }
        #expect(parse("mlockgen 500 " + many.joined(separator: " ") + "\r\n") == .multi(lease: 500, keys: many))
        #expect(parse("mlockgen 500\r\n") == .failure("ERROR"))
        #expect(parse("mlockgen x a\r\n") == .failure("CLIENT_ERROR bad command line format"))
        #expect(parse("mlockgen 500 a " + String(repeating: "k", count: 251) + "\r\n")
            == .failure("CLIENT_ERROR bad command line format"))
    }

    @Test func longMultiLockgenLineIsNotClosedEarly() {
        // Like a multi-get, an mlockgen line may exceed 2048 bytes before its newline arrives.
        var parser = TextParser()
        let partial = Array(("mlockgen 500 " + String(repeating: "key ", count: 1000)).utf8)
        let result = partial.withUnsafeBytes { parser.parse($0) }
        guard case .needMoreData = result else {
            Issue.record("expected needMoreData, got \(result)")
            return
        }
    }
}

/// `lockstate` and `genstate`: read-only queries of a mutex and a generation lease.
@Suite("TextParser: lock state queries")
struct TextParserLockStateTests {
    func parse(_ line: String) -> String {
        var parser = TextParser()
        let input = Array(line.utf8)
        return input.withUnsafeBytes { buffer in
            guard case .command(let command, _) = parser.parse(buffer) else { return "no command" }
            switch command {
            case .lockState(let name, let generation):
                return (generation ? "gen " : "mutex ") + String(decoding: name.bytes(in: buffer), as: UTF8.self)
            case .failure(let reply, _):
                return String(decoding: UnsafeRawBufferPointer(start: reply.text.utf8Start, count: reply.text.utf8CodeUnitCount), as: UTF8.self)
            default:
                return "other"
            }
        }
    }

    @Test func shapes() {
        #expect(parse("lockstate m\r\n") == "mutex m")
        #expect(parse("genstate k\r\n") == "gen k")
        #expect(parse("lockstate\r\n") == "ERROR")
        #expect(parse("genstate a b\r\n") == "ERROR")
        #expect(parse("lockstate " + String(repeating: "n", count: 251) + "\r\n") == "CLIENT_ERROR bad command line format")
    }
}
