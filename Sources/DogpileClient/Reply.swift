// No Foundation and no NIO here: this file and ReplyDecoder.swift build on their own (Fuzz/).

/// One reply from dogpiled (or memcached), as the ``ReplyDecoder`` reads it off the wire.
///
/// The decoder needs no knowledge of the request: every reply of the text protocol can be told
/// apart by its first line.
public enum Reply: Sendable, Equatable {
    /// Zero or more `VALUE` blocks and the line that ended them: `END` (get, gets, gat, gats),
    /// or `HIT`, `STALE`, `GEN <token>` (lockgen). A bare `GEN <token>` is `.values([], .generate(token))`.
    case values([CacheItem], ReplyValuesEnd)
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

/// One item as the daemon returned it: a `VALUE <key> <flags> <bytes> [<cas>]` block and its data.
public struct CacheItem: Sendable, Equatable {
    /// The key, as the server wrote it.
    public var key: String
    /// The opaque 32-bit flags stored with the item.
    public var flags: UInt32
    /// The data block, without its trailing `\r\n`.
    public var data: [UInt8]
    /// The CAS unique, when the reply carried one (gets, gats, lockgen).
    public var cas: UInt64?

    /// The data as UTF-8 text (invalid bytes replaced).
    public var string: String { String(decoding: data, as: UTF8.self) }

    /// Makes an item.
    public init(key: String, flags: UInt32, data: [UInt8], cas: UInt64?) {
        self.key = key
        self.flags = flags
        self.data = data
        self.cas = cas
    }
}

/// The line that ends a run of `VALUE` blocks.
public enum ReplyValuesEnd: Sendable, Equatable {
    /// `END`: the end of a get-style reply.
    case end
    /// `HIT`: lockgen found a fresh value.
    case hit
    /// `STALE`: lockgen found a stale copy while someone else regenerates.
    case stale
    /// `GEN <token>`: lockgen granted this caller the generation lease.
    case generate(token: UInt64)
}

/// One `STAT <name> <value>` line.
public struct ReplyStat: Sendable, Equatable {
    /// The statistic's name (e.g. `curr_items`, `user:memory_limit`).
    public var name: String
    /// Its value, as text (may contain spaces).
    public var value: String

    /// Makes a statistic line.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The status words of the text protocol and dogpiled's lock verbs.
public enum ReplyStatus: String, Sendable, Equatable, CaseIterable {
    /// A store succeeded.
    case stored = "STORED"
    /// add/replace/append/prepend did not store.
    case notStored = "NOT_STORED"
    /// cas: the item changed since it was read.
    case exists = "EXISTS"
    /// The key (or region) does not exist.
    case notFound = "NOT_FOUND"
    /// delete removed the item.
    case deleted = "DELETED"
    /// touch updated the exptime.
    case touched = "TOUCHED"
    /// flush_all, verbosity, invalidate.
    case ok = "OK"
    /// `stats reset`.
    case reset = "RESET"
    /// unlock released a mutex hold.
    case unlocked = "UNLOCKED"
    /// renew extended a mutex hold.
    case renewed = "RENEWED"
    /// unlockgen gave a generation lease back.
    case released = "RELEASED"
    /// The token does not name a live lease or hold.
    case notOwner = "NOT_OWNER"
    /// lock/rlock/lockgen waited `wait_ms` (or 0) without getting anything.
    case busy = "BUSY"
}
