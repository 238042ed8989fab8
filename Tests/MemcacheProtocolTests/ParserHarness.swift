import MemcacheProtocol

/// Bytes of an ASCII/UTF-8 literal.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A ``Command`` (or other parse result) with every span resolved to the bytes it points at, so
/// that results can be compared with `==` and independently of where the buffer started.
enum Decoded: Equatable, CustomStringConvertible {
    case needMore(Int)
    case skipped(Int)
    case retrieval(RetrievalVerb, exptime: Int32, keys: [[UInt8]])
    case storage(StorageVerb, key: [UInt8], flags: UInt32, exptime: Int32, cas: UInt64, data: [UInt8], noreply: Bool)
    case delete(key: [UInt8], noreply: Bool)
    case arithmetic(incr: Bool, key: [UInt8], delta: UInt64, noreply: Bool)
    case touch(key: [UInt8], exptime: Int32, noreply: Bool)
    case flushAll(delay: Int32, noreply: Bool)
    case flushRefused(noreply: Bool)
    case admin(AdminRequest.Verb, arguments: [UInt8], tokens: Int)
    case verbosity(level: UInt32, noreply: Bool)
    case version
    case quit
    case stats([UInt8])
    case tooLarge(key: [UInt8], verb: StorageVerb, noreply: Bool)
    case badDataChunk(noreply: Bool)
    case failure(String, noreply: Bool)
    case close(CloseReason)
    /// A command case this harness does not know by name (e.g. one added later).
    case other(String)

    var description: String {
        func s(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self).debugDescription }
        switch self {
        case .needMore(let n): return "needMore(\(n))"
        case .skipped(let n): return "skipped(\(n))"
        case .retrieval(let v, let e, let keys): return "retrieval(\(v), \(e), \(keys.count) keys: \(keys.prefix(5).map(s)))"
        case .storage(let v, let k, let f, let e, let c, let d, let n):
            return "storage(\(v), \(s(k)), flags \(f), exp \(e), cas \(c), data \(d.count) bytes \(s(Array(d.prefix(20)))), noreply \(n))"
        case .delete(let k, let n): return "delete(\(s(k)), noreply \(n))"
        case .arithmetic(let i, let k, let d, let n): return "\(i ? "incr" : "decr")(\(s(k)), \(d), noreply \(n))"
        case .touch(let k, let e, let n): return "touch(\(s(k)), \(e), noreply \(n))"
        case .flushAll(let d, let n): return "flushAll(\(d), noreply \(n))"
        case .flushRefused(let n): return "flushRefused(noreply \(n))"
        case .admin(let v, let a, let t): return "admin(\(v), \(s(a)), ntokens \(t))"
        case .verbosity(let l, let n): return "verbosity(\(l), noreply \(n))"
        case .version: return "version"
        case .quit: return "quit"
        case .stats(let a): return "stats(\(s(a)))"
        case .tooLarge(let k, let v, let n): return "tooLarge(\(s(k)), \(v), noreply \(n))"
        case .badDataChunk(let n): return "badDataChunk(noreply \(n))"
        case .failure(let t, let n): return "failure(\(t.debugDescription), noreply \(n))"
        case .close(let r): return "close(\(r))"
        case .other(let t): return "other(\(t))"
        }
    }

    /// Resolves `command` against the buffer it was decoded from.
    init(_ command: Command, in buffer: UnsafeRawBufferPointer) {
        func b(_ span: ByteSpan) -> [UInt8] { Array(span.bytes(in: buffer)) }
        switch command {
        case .retrieval(let request):
            self = .retrieval(request.verb, exptime: request.exptime, keys: request.keys(in: buffer).map(b))
        case .storage(let r):
            self = .storage(r.verb, key: b(r.key), flags: r.flags, exptime: r.exptime, cas: r.unique,
                            data: b(r.data), noreply: r.noreply)
        case .delete(let key, let noreply): self = .delete(key: b(key), noreply: noreply)
        case .arithmetic(let r): self = .arithmetic(incr: r.increment, key: b(r.key), delta: r.delta, noreply: r.noreply)
        case .touch(let key, let exptime, let noreply): self = .touch(key: b(key), exptime: exptime, noreply: noreply)
        case .flushAll(let delay, let noreply): self = .flushAll(delay: delay, noreply: noreply)
        case .flushRefused(let noreply): self = .flushRefused(noreply: noreply)
        case .admin(let request): self = .admin(request.verb, arguments: b(request.arguments), tokens: request.tokenCount)
        case .verbosity(let level, let noreply): self = .verbosity(level: level, noreply: noreply)
        case .version: self = .version
        case .quit: self = .quit
        case .stats(let arguments): self = .stats(b(arguments))
        case .tooLarge(let key, let verb, let noreply): self = .tooLarge(key: b(key), verb: verb, noreply: noreply)
        case .badDataChunk(let noreply): self = .badDataChunk(noreply: noreply)
        case .failure(let error, let noreply): self = .failure(error.text.description, noreply: noreply)
        case .close(let reason): self = .close(reason)
        default: self = .other(String(describing: command))
        }
    }

    static func failure(_ text: String) -> Decoded { .failure(text, noreply: false) }
    static let error = Decoded.failure("ERROR")
    static let badFormat = Decoded.failure("CLIENT_ERROR bad command line format")
    static let deleteUsage = Decoded.failure("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]")
    static let invalidExptime = Decoded.failure("CLIENT_ERROR invalid exptime argument")
    static let invalidDelta = Decoded.failure("CLIENT_ERROR invalid numeric delta argument")

    static func get(_ keys: String...) -> Decoded { .retrieval(.get, exptime: 0, keys: keys.map(bytes)) }
    static func set(_ key: String, _ data: String, flags: UInt32 = 0, exptime: Int32 = 0, noreply: Bool = false) -> Decoded {
        .storage(.set, key: bytes(key), flags: flags, exptime: exptime, cas: 0, data: bytes(data), noreply: noreply)
    }
}

/// One parse result with the number of bytes it consumed.
struct Step: Equatable {
    var decoded: Decoded
    var consumed: Int
}

/// Plays the role of a connection: keeps the unconsumed input, appends what arrives and runs the
/// parser until it needs more data or asks for the connection to close.
struct ParserHarness {
    var parser: TextParser
    var pending: [UInt8] = []
    var closed = false
    /// Every step so far, including `needMore` results.
    var steps: [Step] = []

    init(limits: TextParser.Limits = TextParser.Limits()) {
        parser = TextParser(limits: limits)
    }

    /// Appends `input` and parses; returns the steps taken for this chunk (ending with a
    /// `needMore` or a `close`).
    @discardableResult
    mutating func feed(_ input: [UInt8]) -> [Step] {
        precondition(!closed, "fed a closed connection")
        pending += input
        var produced: [Step] = []
        while true {
            let step: Step = pending.withUnsafeBytes { buffer in
                switch parser.parse(buffer) {
                case .needMoreData(let size): return Step(decoded: .needMore(size), consumed: 0)
                case .skipped(let consumed): return Step(decoded: .skipped(consumed), consumed: consumed)
                case .command(let command, let consumed):
                    return Step(decoded: Decoded(command, in: buffer), consumed: consumed)
                }
            }
            produced.append(step)
            precondition(step.consumed <= pending.count, "consumed more than the buffer")
            pending.removeFirst(step.consumed)
            if case .needMore = step.decoded { break }
            if case .close = step.decoded { closed = true; break }
            if step.consumed == 0 { break }  // would loop forever; the test will see it
        }
        steps += produced
        return produced
    }

    @discardableResult
    mutating func feed(_ input: String) -> [Step] { feed(bytes(input)) }

    /// The decoded results so far, without the `needMore` markers and `skipped` steps.
    var commands: [Decoded] {
        steps.map(\.decoded).filter {
            switch $0 {
            case .needMore, .skipped: return false
            default: return true
            }
        }
    }
}

/// Parses `input` delivered in one piece on a fresh connection; returns all results except the
/// final `needMore(0)` (an idle parser waiting for the next request).
func decode(_ input: [UInt8], limits: TextParser.Limits = TextParser.Limits()) -> [Decoded] {
    var harness = ParserHarness(limits: limits)
    var results = harness.feed(input).map(\.decoded)
    if results.last == .needMore(0) { results.removeLast() }
    return results
}

func decode(_ input: String) -> [Decoded] { decode(bytes(input)) }

/// Parses `input` delivered in the given chunks; returns the commands (no needMore/skipped).
func decodeCommands(_ input: [UInt8], chunks sizes: [Int]) -> [Decoded] {
    var harness = ParserHarness()
    var offset = 0
    for size in sizes where offset < input.count && !harness.closed {
        let end = min(input.count, offset + size)
        harness.feed(Array(input[offset..<end]))
        offset = end
    }
    if offset < input.count && !harness.closed { harness.feed(Array(input[offset...])) }
    return harness.commands
}

