/// The keys of a retrieval line, read one at a time so that a `get` of thousands of keys needs no
/// array. Keys are runs of non-space bytes, exactly as memcached tokenizes them.
public struct KeyList: Sequence, IteratorProtocol {
    @usableFromInline let buffer: UnsafeRawBufferPointer
    @usableFromInline var position: Int
    @usableFromInline let end: Int

    /// The keys separated by spaces in `range` of `buffer`.
    public init(buffer: UnsafeRawBufferPointer, range: ByteSpan) {
        self.buffer = buffer
        self.position = range.offset
        self.end = range.end
    }

    /// The next key's span, or `nil` at the end of the line.
    @inlinable
    public mutating func next() -> ByteSpan? {
        while position < end && buffer[position] == 0x20 { position += 1 }
        if position == end { return nil }
        let start = position
        while position < end && buffer[position] != 0x20 { position += 1 }
        return ByteSpan(offset: start, count: position - start)
    }
}
