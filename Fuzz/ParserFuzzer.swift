// libFuzzer target for the memcached text parser (Sources/MemcacheProtocol).
//
// Built by scripts/fuzz.sh together with Sources/MemcacheProtocol/*.swift as ONE module
// (`swiftc -module-name ParserFuzz -parse-as-library -sanitize=fuzzer,address`), so this file
// must not `import MemcacheProtocol`: TextParser & co. are simply in scope.
//
// Each input is treated as the byte stream a client sends on one connection:
//   1. Whole: all bytes arrive at once; the stream is parsed like Connection does
//      (parse, consume `consumed`, stop on needMoreData / close / quit).
//   2. Split: the same bytes arrive in chunks (cut points derived from the input, fixed chunk
//      sizes, and one byte at a time for short inputs). Each chunk is appended and the buffer
//      is parsed until it needs more data, as after each read().
// Every command has all its spans checked against the buffer and every byte touched, and the
// sequence of decoded commands (in absolute stream offsets) must not depend on how the stream
// was split — except that a split can legitimately hit the 2048-byte "line without newline"
// limit sooner, so traces are only compared up to the first `close(.lineTooLong)`.
//
// Buffers handed to the parser always END at the end of an exact-size allocation, so ASan
// reports any read past the received bytes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One decoded event, in absolute stream offsets, for comparing runs.
struct TraceEvent: Equatable {
    var kind: Int
    var consumed: Int
    var a = 0, b = 0, c = 0, d = 0, e = 0

    static let lineTooLongKind = 100
}

/// Sink for touched bytes so the optimizer cannot drop the reads.
nonisolated(unsafe) var fuzzChecksum: UInt64 = 0

@inline(never)
func touch(_ span: ByteSpan, _ buffer: UnsafeRawBufferPointer, within limit: Int, _ what: StaticString) {
    precondition(span.offset >= 0 && span.count >= 0, "negative span")
    precondition(span.end <= limit, "span past its request")
    precondition(span.end <= buffer.count, "span past the buffer")
    let bytes = span.bytes(in: buffer)
    precondition(bytes.count == span.count, "bytes(in:) length mismatch")
    var sum = fuzzChecksum
    for byte in bytes { sum = sum &* 31 &+ UInt64(byte) }
    fuzzChecksum = sum
}

/// Checks one command against the buffer it came from and turns it into a trace event.
func check(_ command: Command, consumed: Int, _ buffer: UnsafeRawBufferPointer, base: Int, limits: TextParser.Limits) -> TraceEvent {
    precondition(consumed >= 0 && consumed <= buffer.count, "consumed outside the buffer")
    if case .close = command {} else {
        precondition(consumed > 0, "a command that consumed nothing would loop forever")
    }
    func event(_ kind: Int) -> TraceEvent { TraceEvent(kind: kind, consumed: base + consumed) }
    switch command {
    case .retrieval(let request):
        touch(request.keyRange, buffer, within: consumed, "keyRange")
        var e = event(1)
        e.a = base + request.keyRange.offset
        e.b = request.keyRange.count
        e.c = Int(request.exptime)
        switch request.verb {
        case .get: e.d = 0
        case .gets: e.d = 1
        case .gat: e.d = 2
        case .gats: e.d = 3
        }
        var keys = 0
        var previousEnd = request.keyRange.offset
        for key in request.keys(in: buffer) {
            precondition(key.count > 0, "empty key")
            precondition(key.offset >= previousEnd, "keys out of order")
            precondition(key.offset >= request.keyRange.offset && key.end <= request.keyRange.end, "key outside keyRange")
            touch(key, buffer, within: consumed, "key")
            for byte in key.bytes(in: buffer) { precondition(byte != 0x20, "space inside a key") }
            previousEnd = key.end
            keys += 1
            e.e = e.e &* 131 &+ key.offset &+ key.count
        }
        e.e = e.e &+ keys
        return e
    case .storage(let request):
        touch(request.key, buffer, within: consumed, "key")
        touch(request.data, buffer, within: consumed, "data")
        precondition(request.key.count > 0 && request.key.count <= limits.maximumKeyLength, "bad key length")
        precondition(request.data.end + 2 == consumed, "data block not followed by its \\r\\n")
        precondition(buffer[consumed - 2] == 0x0D && buffer[consumed - 1] == 0x0A, "data block terminator")
        precondition(limits.itemFits(keyLength: request.key.count, flags: request.flags, valueLength: request.data.count), "item over the limit accepted")
        var e = event(2)
        e.a = base + request.key.offset
        e.b = request.key.count
        e.c = base + request.data.offset
        e.d = request.data.count
        // Verb, flags, exptime, unique, noreply...: every field, by description, so fields
        // added later are compared too (span offsets are relative to the buffer, which starts
        // at the same stream offset in every run).
        e.e = fold(request)
        return e
    case .delete(let key, let noreply):
        touch(key, buffer, within: consumed, "key")
        var e = event(3); e.a = base + key.offset; e.b = key.count; e.c = noreply ? 1 : 0
        return e
    case .arithmetic(let request):
        touch(request.key, buffer, within: consumed, "key")
        var e = event(4); e.a = base + request.key.offset; e.b = request.key.count
        e.c = Int(truncatingIfNeeded: request.delta); e.d = request.increment ? 1 : 0; e.e = request.noreply ? 1 : 0
        return e
    case .touch(let key, let exptime, let noreply):
        touch(key, buffer, within: consumed, "key")
        var e = event(5); e.a = base + key.offset; e.b = key.count; e.c = Int(exptime); e.d = noreply ? 1 : 0
        return e
    case .flushAll(let delay, let noreply):
        var e = event(6); e.a = Int(delay); e.b = noreply ? 1 : 0
        return e
    case .verbosity(let level, let noreply):
        var e = event(7); e.a = Int(level); e.b = noreply ? 1 : 0
        return e
    case .version:
        return event(8)
    case .quit:
        return event(9)
    case .stats(let arguments):
        touch(arguments, buffer, within: consumed, "stats arguments")
        var e = event(10); e.a = base + arguments.offset; e.b = arguments.count
        return e
    case .tooLarge(let key, let verb, let noreply):
        touch(key, buffer, within: consumed, "key")
        var e = event(11); e.a = base + key.offset; e.b = key.count; e.c = Int(verb.rawValue); e.d = noreply ? 1 : 0
        return e
    case .badDataChunk(let noreply):
        var e = event(12); e.a = noreply ? 1 : 0
        return e
    case .failure(let reply, let noreply):
        precondition(reply.text.utf8CodeUnitCount > 0, "empty error reply")
        var e = event(13); e.a = Int(bitPattern: UInt(bitPattern: reply.text.utf8Start)); e.b = noreply ? 1 : 0
        return e
    case .close(let reason):
        return closeEvent(reason, consumed: consumed, buffer, base: base)
    default:
        // Cases added to Command after this file was written (meta commands...): find their
        // spans by reflection so they are still bounds-checked and compared.
        return reflectedEvent(command, consumed: consumed, buffer, base: base)
    }
}

func closeEvent(_ reason: CloseReason, consumed: Int, _ buffer: UnsafeRawBufferPointer, base: Int) -> TraceEvent {
    switch reason {
    case .lineTooLong:
        precondition(consumed == 0, "lineTooLong consumed bytes")
        // Compared by kind only: where it fires depends on the chunking.
        return TraceEvent(kind: TraceEvent.lineTooLongKind, consumed: 0)
    case .binaryProtocol:
        precondition(consumed == 0 && base == 0 && buffer[0] == 0x80, "binary close not at connection start")
        return TraceEvent(kind: 15, consumed: base + consumed)
    case .httpRequest:
        return TraceEvent(kind: 14, consumed: base + consumed)
    }
}

/// Any command: every `ByteSpan` reachable through its payload is touched and folded into the event.
func reflectedEvent(_ command: Command, consumed: Int, _ buffer: UnsafeRawBufferPointer, base: Int) -> TraceEvent {
    var event = TraceEvent(kind: 50, consumed: base + consumed)
    let mirror = Mirror(reflecting: command)
    var name = String(describing: command)
    if let label = mirror.children.first?.label { name = label }
    for byte in name.utf8 { event.a = event.a &* 31 &+ Int(byte) }
    func walk(_ value: Any, depth: Int) {
        if let span = value as? ByteSpan {
            touch(span, buffer, within: consumed, "reflected span")
            event.b = event.b &* 131 &+ (base + span.offset)
            event.c = event.c &* 131 &+ span.count
            return
        }
        guard depth < 6 else { return }
        for child in Mirror(reflecting: value).children { walk(child.value, depth: depth + 1) }
    }
    walk(command, depth: 0)
    return event
}

/// A simulated connection: received bytes, a read position, and the parser.
struct SimulatedConnection {
    var parser = TextParser()
    var position = 0
    var closed = false
    var trace: [TraceEvent] = []

    /// Runs every complete request in `received[position...]`, as `executeBufferedRequests` does.
    /// `received` must be an exact-size allocation of the bytes received so far.
    mutating func drain(_ received: UnsafeRawBufferPointer, repeatNeedMore: Bool) {
        var iterations = 0
        while !closed {
            iterations += 1
            precondition(iterations <= received.count + 2, "parser made no progress")
            let buffer = UnsafeRawBufferPointer(rebasing: received[position...])
            let result = parser.parse(buffer)
            switch result {
            case .needMoreData(let size):
                precondition(size == 0 || size > buffer.count, "needMoreData although the request is complete")
                if repeatNeedMore {
                    // Connection re-runs the parser on the same bytes after output drains.
                    guard case .needMoreData(let again) = parser.parse(buffer), again == size else {
                        preconditionFailure("parse is not idempotent on needMoreData")
                    }
                }
                return
            case .skipped(let consumed):
                precondition(consumed > 0 && consumed <= buffer.count, "bad skipped count")
                position += consumed
            case .command(let command, let consumed):
                let event = check(command, consumed: consumed, buffer, base: position, limits: parser.limits)
                trace.append(event)
                position += consumed
                switch command {
                case .close, .quit: closed = true
                default: break
                }
            }
        }
    }
}

/// Feeds `data` in chunks ending at `cuts` (ascending, last == data.count).
func runSplit(_ data: UnsafeRawBufferPointer, cuts: [Int]) -> [TraceEvent] {
    var connection = SimulatedConnection()
    var previous = -1  // a cut at 0 means the parser first sees an empty buffer
    for cut in cuts where cut > previous {
        // A fresh exact-size copy of everything received so far, so reads past it trap.
        let received = UnsafeMutableRawBufferPointer.allocate(byteCount: cut, alignment: 1)
        if cut > 0 { received.copyMemory(from: UnsafeRawBufferPointer(rebasing: data[0..<cut])) }
        connection.drain(UnsafeRawBufferPointer(received), repeatNeedMore: true)
        received.deallocate()
        previous = cut
        if connection.closed { break }
    }
    return connection.trace
}

func compareTraces(_ whole: [TraceEvent], _ split: [TraceEvent]) {
    let lineLimit = { (trace: [TraceEvent]) in
        trace.firstIndex { $0.kind == TraceEvent.lineTooLongKind } ?? trace.count
    }
    let wholeEnd = lineLimit(whole)
    let splitEnd = lineLimit(split)
    // A split stream may close for a long line earlier, never later.
    precondition(splitEnd <= wholeEnd, "split stream parsed further than the whole stream")
    for index in 0..<splitEnd where whole[index] != split[index] {
        preconditionFailure("split parse differs from whole parse at command \(index): \(whole[index]) vs \(split[index])")
    }
    if splitEnd == split.count && wholeEnd == whole.count {
        precondition(whole.count == split.count, "split parse produced a different number of commands")
    }
}

/// A hash of a value's description.
func fold(_ value: Any) -> Int {
    var hash = 0
    for byte in String(describing: value).utf8 { hash = hash &* 31 &+ Int(byte) }
    return hash
}

/// FNV-1a, to derive cut points from the input.
func fnv(_ data: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // Exact-size copy (libFuzzer's buffer is one too, but may be nil when size == 0).
    let data = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { data.deallocate() }
    if size > 0 { data.copyMemory(from: UnsafeRawBufferPointer(start: start, count: size)) }
    let bytes = UnsafeRawBufferPointer(data)

    // 1. The whole stream at once.
    var whole = SimulatedConnection()
    whole.drain(bytes, repeatNeedMore: false)

    guard size > 0 else { return 0 }

    // 2a. Up to four cut points derived from the data.
    var hash = fnv(bytes)
    var cuts: [Int] = []
    for _ in 0..<(1 + Int(hash % 4)) {
        hash = hash &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        cuts.append(Int((hash >> 33) % UInt64(size + 1)))
    }
    cuts.append(size)
    cuts.sort()
    compareTraces(whole.trace, runSplit(bytes, cuts: cuts))

    // 2b. Fixed-size chunks (1...16 bytes, from the last byte), for inputs that are not huge.
    if size <= 4096 {
        let chunk = 1 + Int(bytes[size - 1] % 16)
        compareTraces(whole.trace, runSplit(bytes, cuts: Array(stride(from: chunk, to: size, by: chunk)) + [size]))
    }

    // 2c. One byte at a time, for short inputs.
    if size <= 512 {
        compareTraces(whole.trace, runSplit(bytes, cuts: Array(1...size)))
    }
    return 0
}
