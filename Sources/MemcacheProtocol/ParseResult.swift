/// What ``TextParser/parse(_:)`` made of the bytes it was given.
public enum ParseResult {
    /// Not enough bytes for a whole request. `bufferSize` is how many unconsumed bytes the request
    /// needs in total when the parser knows it (a data block of known length), or 0.
    case needMoreData(bufferSize: Int)
    /// A request, which used the first `consumed` bytes of the buffer.
    case command(Command, consumed: Int)
    /// Bytes that were discarded (the data block of a refused storage request).
    case skipped(consumed: Int)
}
