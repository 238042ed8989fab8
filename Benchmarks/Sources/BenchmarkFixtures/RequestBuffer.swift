import MemcacheProtocol

/// Protocol text in one buffer allocated up front, as a connection's input buffer holds it: the
/// benchmarks parse and execute from it without allocating per request.
///
/// The buffer lives as long as the benchmark (its closure captures it), so it is never freed.
public struct RequestBuffer: @unchecked Sendable {
    /// The bytes, writable so that a ``DecimalField`` can change a key or a token in place.
    public let storage: UnsafeMutableRawBufferPointer

    /// Copies the UTF-8 of `text` into a buffer that stays allocated.
    public init(_ text: String) {
        let utf8 = Array(text.utf8)
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: utf8.count, alignment: 1)
        storage.copyBytes(from: utf8)
    }

    /// The whole buffer, as the parser reads it.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(storage) }

    /// The bytes from `offset` to the end (what a connection would hand the parser).
    public func remaining(from offset: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[offset...])
    }

    /// The run of `width` ASCII zeros that starts at the first `marker` in the text: a field
    /// that a benchmark rewrites before each request (a fresh key, a lease token).
    public func field(after marker: String, width: Int) -> DecimalField {
        let needle = Array(marker.utf8)
        let text = Array(bytes)
        guard let start = (0...(text.count - needle.count)).first(where: { Array(text[$0..<$0 + needle.count]) == needle }),
              start + needle.count + width <= text.count
        else { fatalError("benchmark input has no field after \(marker)") }
        return DecimalField(storage: storage, range: (start + needle.count)..<(start + needle.count + width))
    }

    /// Parses the one request at the start of the buffer with a fresh parser and returns it; a
    /// buffer that does not start with one whole request is a broken benchmark, so it traps.
    public func firstCommand(limits: TextParser.Limits = TextParser.Limits()) -> Command {
        var parser = TextParser(limits: limits)
        guard case .command(let command, _) = parser.parse(bytes) else {
            fatalError("benchmark input does not start with a whole request")
        }
        return command
    }
}
