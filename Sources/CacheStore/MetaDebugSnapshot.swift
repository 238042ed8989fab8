/// What `me` reports about an item: memcached's `exp`, `la`, `cas`, `fetch`, `cls`, `size`.
public struct MetaDebugSnapshot: Sendable {
    /// Expiry on the server clock (0: never).
    public var exptime: UInt32
    /// Last LRU bump on the server clock.
    public var lastAccess: UInt32
    /// CAS unique.
    public var cas: UInt64
    /// Read before.
    public var fetched: Bool
    /// Stored under a base64 key.
    public var binaryKey: Bool
    /// memcached's `ITEM_ntotal` for this item: its header, key, value and CAS as memcached
    /// would lay them out (dogpiled's own footprint differs; `me` reports memcached's figure).
    public var memcachedSize: Int
}
