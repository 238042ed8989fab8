/// One request decoded from the text protocol, ready to execute.
///
/// Keys and values are ``ByteSpan``s into the buffer the parser was given, so decoding allocates
/// nothing. Malformed requests decode to ``failure(_:noreply:)`` with the exact reply memcached
/// gives, so the executor never has to re-derive protocol errors.
public enum Command {
    /// `get`, `gets`, `gat`, `gats` (and the ancient alias `bget`).
    case retrieval(RetrievalRequest)
    /// `set`, `add`, `replace`, `append`, `prepend`, `cas`, with their data block.
    case storage(StorageRequest)
    /// `delete <key> [0] [noreply]`.
    case delete(key: ByteSpan, noreply: Bool)
    /// `incr` / `decr`.
    case arithmetic(ArithmeticRequest)
    /// `touch <key> <exptime> [noreply]`.
    case touch(key: ByteSpan, exptime: Int32, noreply: Bool)
    /// `flush_all [delay] [noreply]`; a delay of 0 or less flushes now.
    case flushAll(delay: Int32, noreply: Bool)
    /// `flush_all` refused because flushing is disabled (`-F`); still counted as a flush.
    case flushRefused(noreply: Bool)
    /// An administrative command (``AdminRequest``).
    case admin(AdminRequest)
    /// `verbosity <level> [noreply]`.
    case verbosity(level: UInt32, noreply: Bool)
    /// `version`.
    case version
    /// `refresh_certs [noreply]`: reload the TLS certificates (`-Z`); `noreply` silences only the
    /// `OK`, as in memcached.
    case refreshCertificates(noreply: Bool)
    /// `lockgen <key> <lease_ms> [<wait_ms>] [early]`: the dogpile lock on a cached value;
    /// `early` opts in to early recompute (a fresh value near its expiry may come with a lease).
    case lockgen(key: ByteSpan, leaseMilliseconds: Int, waitMilliseconds: Int?, early: Bool)
    /// `mlockgen <lease_ms> <key>...`: `lockgen` for many keys in one round trip, never waiting;
    /// `keys` spans the key list (read it with ``KeyList``).
    case multiLockgen(leaseMilliseconds: Int, keys: ByteSpan)
    /// `unlockgen <key> <token>`: give a generation lease back without a value.
    case unlockgen(key: ByteSpan, token: UInt64)
    /// `lock` / `rlock <name> <lease_ms> [<wait_ms>]`.
    case lock(name: ByteSpan, shared: Bool, leaseMilliseconds: Int, waitMilliseconds: Int?)
    /// `unlock <name> <token>`.
    case unlock(name: ByteSpan, token: UInt64)
    /// `renew <name> <token> <lease_ms>`.
    case renew(name: ByteSpan, token: UInt64, leaseMilliseconds: Int)
    /// `lockstate <name>` (a named mutex) or `genstate <key>` (a generation lease): a read-only
    /// query of who holds and waits.
    case lockState(name: ByteSpan, generation: Bool)
    /// `invalidate <region> hard|soft`.
    case invalidate(region: ByteSpan, hard: Bool)
    /// `mn`, the meta protocol's no-op: answered `MN`.
    case metaNoop
    /// `mg`, `ms`, `md`, `ma`, `me`: a meta command that passed the parse-time checks.
    case meta(MetaRequest)
    /// `quit`: close after the replies already queued are written.
    case quit
    /// `stats [group]`; `arguments` holds the tokens after `stats` (may be empty).
    case stats(arguments: ByteSpan)
    /// A storage command whose item can never fit; its data block is swallowed by the parser.
    /// memcached also drops the key's current value when the verb is `set`.
    case tooLarge(key: ByteSpan, verb: StorageVerb, noreply: Bool)
    /// A data block not terminated by `\r\n`.
    case badDataChunk(noreply: Bool)
    /// A request that is answered with a fixed error line.
    case failure(ErrorReply, noreply: Bool)
    /// The connection must be closed without a reply.
    case close(CloseReason)
}

/// Why the parser asks for the connection to be closed.
public enum CloseReason: Sendable, Equatable {
    /// More than 2048 bytes arrived without a newline on a line that is not a `get`/`gets`.
    case lineTooLong
    /// An HTTP request line (memcached closes these silently).
    case httpRequest
    /// The first byte was the binary protocol's magic 0x80, which is not supported.
    case binaryProtocol
}

/// The four retrieval verbs.
public enum RetrievalVerb: Sendable {
    case get, gets, gat, gats

    /// Whether `VALUE` lines carry the CAS unique.
    @inlinable public var returnsCAS: Bool { self == .gets || self == .gats }
    /// Whether each hit's exptime is updated.
    @inlinable public var touches: Bool { self == .gat || self == .gats }
}

/// A retrieval request; its keys are read lazily with ``RetrievalRequest/keys``.
public struct RetrievalRequest {
    /// Which verb.
    public var verb: RetrievalVerb
    /// The new exptime for `gat`/`gats`; 0 otherwise.
    public var exptime: Int32
    /// Where the keys start and the line ends.
    public var keyRange: ByteSpan

    /// The keys, in request order.
    public func keys(in buffer: UnsafeRawBufferPointer) -> KeyList {
        KeyList(buffer: buffer, range: keyRange)
    }
}

/// The six storage verbs.
public enum StorageVerb: UInt8, Sendable {
    case set, add, replace, append, prepend, cas
    /// dogpiled's `setgen`: a `set` fenced by a generation lease token.
    case setgen
}

/// A storage request with its data block.
public struct StorageRequest {
    /// Which verb.
    public var verb: StorageVerb
    /// The key.
    public var key: ByteSpan
    /// Client flags.
    public var flags: UInt32
    /// memcached exptime as sent.
    public var exptime: Int32
    /// The CAS unique of a `cas` request, the lease token of a `setgen`; 0 otherwise.
    public var unique: UInt64
    /// The value, without its trailing `\r\n`.
    public var data: ByteSpan
    /// Whether the reply is suppressed.
    public var noreply: Bool
}

/// An `incr` or `decr`.
public struct ArithmeticRequest {
    /// `true` for `incr`.
    public var increment: Bool
    /// The key.
    public var key: ByteSpan
    /// The amount.
    public var delta: UInt64
    /// Whether the reply is suppressed.
    public var noreply: Bool
}

/// An error line memcached sends for a malformed request (without its `\r\n`).
public struct ErrorReply: Sendable {
    /// The text, e.g. `CLIENT_ERROR bad command line format`.
    public let text: StaticString

    /// Creates a reply.
    public init(_ text: StaticString) { self.text = text }

    /// `ERROR`: unknown command or wrong number of tokens.
    public static let unknownCommand = ErrorReply("ERROR")
    /// `CLIENT_ERROR bad command line format`.
    public static let badFormat = ErrorReply("CLIENT_ERROR bad command line format")
    /// The usage hint memcached gives for `delete` with extra tokens.
    public static let deleteUsage = ErrorReply("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]")
    /// A delta that is not an unsigned 64-bit number.
    public static let invalidDelta = ErrorReply("CLIENT_ERROR invalid numeric delta argument")
    /// An exptime that is not a number (touch, gat).
    public static let invalidExptime = ErrorReply("CLIENT_ERROR invalid exptime argument")
    /// `shutdown` without memcached's `-A`.
    public static let shutdownDisabled = ErrorReply("ERROR: shutdown not enabled")
    /// `flush_all` with flushing disabled (`-F`).
    public static let flushDisabled = ErrorReply("CLIENT_ERROR flush_all not allowed")
}
