/// The meta verbs.
public enum MetaVerb: UInt8, Sendable {
    /// `mg`: meta get.
    case get
    /// `ms`: meta set.
    case set
    /// `md`: meta delete.
    case delete
    /// `ma`: meta arithmetic.
    case arithmetic
    /// `me`: meta debug.
    case debug
}

/// A meta command that passed memcached's parse-time checks.
public struct MetaRequest: Sendable {
    /// Which verb.
    public var verb: MetaVerb
    /// The key token as sent (base64 when ``MetaFlags/base64Key``); at most 250 bytes.
    public var key: ByteSpan
    /// The flags.
    public var flags: MetaFlags
    /// The flag tokens, from the first to the end of the line, for answering in request order.
    public var flagTokens: ByteSpan
    /// `ms`: the data block without its `\r\n`.
    public var data: ByteSpan
    /// `ms`: the item can never fit (`-I`); the parser swallows the data block and the executor
    /// answers `SERVER_ERROR object too large for cache`, dropping the key's value.
    public var tooLarge: Bool

    /// Creates a request.
    public init(verb: MetaVerb, key: ByteSpan, flags: MetaFlags, flagTokens: ByteSpan,
                data: ByteSpan = ByteSpan(offset: 0, count: 0), tooLarge: Bool = false) {
        self.verb = verb
        self.key = key
        self.flags = flags
        self.flagTokens = flagTokens
        self.data = data
        self.tooLarge = tooLarge
    }

    /// The flag tokens in order (each a span of the parsed buffer).
    public func tokens(in buffer: UnsafeRawBufferPointer) -> KeyList {
        KeyList(buffer: buffer, range: flagTokens)
    }
}
