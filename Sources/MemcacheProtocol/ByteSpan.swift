/// A run of bytes inside the buffer a ``TextParser`` was handed, by offset.
///
/// Commands refer to keys and values this way instead of copying them: the bytes stay in the
/// connection's input buffer until the command has been executed.
public struct ByteSpan: Hashable, Sendable {
    /// Offset of the first byte from the start of the parsed buffer.
    public var offset: Int
    /// Number of bytes.
    public var count: Int

    /// Creates a span of `count` bytes starting at `offset`.
    @inlinable
    public init(offset: Int, count: Int) {
        self.offset = offset
        self.count = count
    }

    /// The offset one past the last byte.
    @inlinable
    public var end: Int { offset + count }

    /// The bytes of this span inside `buffer`.
    @inlinable
    public func bytes(in buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }
}
