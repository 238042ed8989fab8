// No Foundation and no NIO here: the reply types and ReplyDecoder.swift build on their own (Fuzz/).

/// One reply from dogpiled (or memcached), as the ``ReplyDecoder`` reads it off the wire.
///
/// The decoder needs no knowledge of the request, except for `mlockgen`: every other reply of
/// the text protocol can be told apart by its first line.
public enum Reply: Sendable, Equatable {
    /// Zero or more `VALUE` blocks and the line that ended them: `END` (get, gets, gat, gats),
    /// or `HIT`, `STALE`, `GEN <token>` (lockgen). A bare `GEN <token>` is `.values([], .generate(token))`.
    case values([CacheItem], ReplyValuesEnd)
    /// One block per key up to `END` (`mlockgen`), in request order. Decoded only when the
    /// decoder is told to expect it (``ReplyDecoder/Mode/lockgenBlocks``): a block such as
    /// `GEN <token>` alone is otherwise a whole `lockgen` reply.
    case lockgenBlocks([LockgenBlock])
    /// `STAT <name> <value>` lines up to `END`, in order.
    case stats([ReplyStat])
    /// A one-word status line.
    case status(ReplyStatus)
    /// `LOCKED <token>` (lock, rlock).
    case locked(token: UInt64)
    /// A bare number: the new value after `incr`/`decr`.
    case number(UInt64)
    /// `VERSION <text>`.
    case version(String)
    /// `ERROR`: the server did not know the command or had the wrong number of tokens.
    case error
    /// `CLIENT_ERROR <message>`.
    case clientError(String)
    /// `SERVER_ERROR <message>`.
    case serverError(String)
}
