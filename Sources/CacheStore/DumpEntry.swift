/// One item as `stats cachedump` and `lru_crawler metadump` list it: a copy taken under the
/// shard lock, so it can be formatted after the lock is given back.
public struct DumpEntry: Sendable {
    /// The key bytes.
    public var key: [UInt8]
    /// Value length in bytes (without the `\r\n`).
    public var valueLength: Int
    /// The fields `me` reports (expiry, last access, CAS, fetched, memcached's size).
    public var snapshot: MetaDebugSnapshot
    /// The memcached slab class the item would live in (``MemcachedSlabClasses``).
    public var classID: Int
}
