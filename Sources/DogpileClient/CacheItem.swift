// No Foundation and no NIO here: the reply types and ReplyDecoder.swift build on their own (Fuzz/).

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
