import Foundation
import Logging

/// A named part of the cache with its own expiration, in the manner of a dogpile.cache region,
/// shared with Python's `dogpiled.make_region()`.
///
/// A region `user` stores key `42` as `user:42` on the daemon the ring gives it (keys that are
/// too long or contain spaces or control characters become `user:<sha1 hex>`, see
/// ``KeyMangler``), in dogpile.cache's JSON value format (``ValueCodec``), so Swift and Python
/// read each other's values. The daemon must declare the region (`--region user:memory=64m`):
/// its first use checks that with `stats regions` (``DogpileClient/checkRegions(_:)``).
///
/// ```swift
/// let users = try client.region("user", expiration: .seconds(300))
/// let user = try await users.getOrCreate("42") { try await database.loadUser(42) }
/// ```
public struct Region: Sendable {
    /// The client.
    public let client: DogpileClient
    /// The region's name, also its key prefix and the daemon's region.
    public let name: String
    /// How long a value stays fresh (the items' exptime); nil: the daemon region's default.
    public var expiration: Duration?
    /// `lease_ms` of the generation lease: choose it longer than a creator takes. A creator that
    /// outlives it cannot overwrite a newer value (``GetOrCreateResult/Source/createdNotStored(reason:)``).
    public var lease: Duration = DogpileClient.defaultLease
    /// `wait_ms` of each `lockgen`: how long the server may park a caller while another regenerates.
    public var wait: Duration = DogpileClient.defaultWait
    /// Early recompute (on by default): `lockgen` is sent with `early`, so the daemon may hand one
    /// caller a fresh value close to its expiry together with the lease (XFetch, decided
    /// server-side from the key's measured regeneration time), and whenever a lease comes with a
    /// value (that, or a stale copy) the caller gets the value at once and the creator runs in a
    /// background task. With it on, a caller never waits for a regeneration when there is any
    /// value to show. Off: `lockgen` without `early`, and a lease with a stale copy runs the
    /// creator in the caller, as before.
    public var earlyRecompute = true
    /// How long ``getOrCreate(_:as:creator:)`` keeps asking again after `BUSY` before it throws
    /// ``DogpileClientError/Code/busy``.
    public var busyDeadline: Duration = .seconds(30)

    init(client: DogpileClient, name: String, expiration: Duration?) {
        self.client = client
        self.name = name
        self.expiration = expiration
    }

    /// The cache key of `key` in this region (`name:key`, or `name:<sha1>`; see ``KeyMangler``).
    public func cacheKey(_ key: String) -> String {
        KeyMangler.cacheKey(region: name, key: key)
    }

    /// The exptime stores carry: the expiration in seconds (a Unix time past memcached's 30 days).
    var exptime: Int64 {
        guard let expiration else { return 0 }
        let seconds = max(1, expiration.wholeSecondsRoundedUp)
        return seconds > 30 * 24 * 3600 ? Int64(Date().timeIntervalSince1970) + seconds : seconds
    }

    var logger: Logger { client.logger }

    // MARK: - Plain access

    /// The value of `key`, or nil (a miss, a stale copy, a dead daemon, or a value that is not
    /// this format). Throws ``DogpileClientError/Code/valueFormat`` if the value does not decode as `Value`.
    public func get<Value: Decodable & Sendable>(_ key: String, as type: Value.Type = Value.self) async throws -> Value? {
        try await client.ensureRegionChecked(name)
        guard let item = try await client.get(cacheKey(key)) else { return nil }
        return try ValueCodec.decode(item.data, as: Value.self)?.value
    }

    /// Stores `value` for `key` unconditionally (a plain `set`: it also ends a lease in flight and
    /// wakes its waiters). Throws ``DogpileClientError/Code/daemonDead`` if the key's daemon is dead.
    public func set<Value: Encodable>(_ key: String, _ value: Value) async throws {
        try await client.ensureRegionChecked(name)
        try await client.set(cacheKey(key), ValueCodec.encode(value), flags: ValueCodec.flags, exptime: exptime)
    }

    /// Deletes `key` (and its stale copy; ends a lease on it). True if there was a value.
    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        try await client.ensureRegionChecked(name)
        return try await client.delete(cacheKey(key))
    }

    /// `invalidate <name> hard|soft` on every daemon. After `.soft`, callers of
    /// ``getOrCreate(_:as:creator:)`` get the old values while one caller per key regenerates.
    /// Returns the daemons that could not be reached (skipped, with a warning).
    @discardableResult
    public func invalidate(_ mode: Invalidation = .hard) async throws -> [ServerAddress] {
        try await client.invalidate(region: name, mode)
    }
}

extension DogpileClient {
    /// The region `name` of this client (see ``Region``). `expiration` nil uses the daemon
    /// region's default exptime. Throws ``DogpileClientError/Code/invalidArgument`` for a name
    /// that is empty, longer than 200 bytes, or has spaces, control characters or `:`.
    public func region(_ name: String, expiration: Duration? = nil) throws -> Region {
        try KeyMangler.validateRegionName(name)
        return Region(client: self, name: name, expiration: expiration)
    }
}
