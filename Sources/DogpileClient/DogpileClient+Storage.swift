import NIOCore

extension DogpileClient {
    // MARK: - Retrieval

    /// `get`: the item, or nil on a miss (and when the key's daemon is dead).
    public func get(_ key: String) async throws -> CacheItem? {
        try await retrieve("get", [], keys: [key])[key]
    }

    /// `get` of several keys, one request per daemon, all daemons at once. Misses are left out;
    /// a dead daemon's keys miss.
    public func get(_ keys: [String]) async throws -> [String: CacheItem] {
        try await retrieve("get", [], keys: keys)
    }

    /// `gets`: the item with its CAS unique, or nil.
    public func gets(_ key: String) async throws -> CacheItem? {
        try await retrieve("gets", [], keys: [key])[key]
    }

    /// `gets` of several keys, fanned out per daemon.
    public func gets(_ keys: [String]) async throws -> [String: CacheItem] {
        try await retrieve("gets", [], keys: keys)
    }

    /// `gat`: gets the item and sets its exptime (memcached's rules: seconds, 0 never, above 30
    /// days a Unix time, negative expired).
    public func gat(_ key: String, exptime: Int64) async throws -> CacheItem? {
        try await retrieve("gat", [String(exptime)], keys: [key])[key]
    }

    /// `gat` of several keys, fanned out per daemon.
    public func gat(_ keys: [String], exptime: Int64) async throws -> [String: CacheItem] {
        try await retrieve("gat", [String(exptime)], keys: keys)
    }

    /// `gats`: as ``gat(_:exptime:)-(String,_)`` with the CAS unique.
    public func gats(_ key: String, exptime: Int64) async throws -> CacheItem? {
        try await retrieve("gats", [String(exptime)], keys: [key])[key]
    }

    /// `gats` of several keys, fanned out per daemon.
    public func gats(_ keys: [String], exptime: Int64) async throws -> [String: CacheItem] {
        try await retrieve("gats", [String(exptime)], keys: keys)
    }

    private func retrieve(_ command: String, _ arguments: [String], keys: [String]) async throws -> [String: CacheItem] {
        for key in keys { try KeyMangler.validateKey(key) }
        var byDaemon: [Int: [String]] = [:]
        for key in Set(keys) {
            let daemon = daemon(for: key)
            byDaemon[daemons.firstIndex { $0 === daemon }!, default: []].append(key)
        }
        let timeout = configuration.requestTimeout.timeAmount
        let logger = self.logger
        return try await withThrowingTaskGroup(of: [CacheItem].self) { group in
            for (index, keys) in byDaemon {
                let daemon = daemons[index]
                group.addTask {
                    let reply: Reply
                    do {
                        reply = try await daemon.send(RequestEncoder.line([command] + arguments + keys), timeout: timeout)
                    } catch let error as DogpileClientError where error.code == .daemonDead || error.code == .connectionFailed {
                        logger.warning("reads miss: daemon unavailable", metadata: ["daemon": "\(daemon.name)", "error": "\(error)"])
                        return []
                    }
                    guard case .values(let items, .end) = reply else {
                        throw DogpileClientError.unexpected(reply, daemon: daemon.name, request: command)
                    }
                    return items
                }
            }
            var found: [String: CacheItem] = [:]
            for try await items in group {
                for item in items { found[item.key] = item }
            }
            return found
        }
    }

    // MARK: - Storage

    /// `set`: stores unconditionally. Throws on a server error (e.g. too large) or a dead daemon.
    public func set(_ key: String, _ data: [UInt8], flags: UInt32 = 0, exptime: Int64 = 0) async throws {
        guard try await store("set", key, data, flags: flags, exptime: exptime) else {
            throw DogpileClientError(.protocolError, "set answered NOT_STORED", key: key)
        }
    }

    /// `add`: stores only if there is no item. True if stored.
    @discardableResult
    public func add(_ key: String, _ data: [UInt8], flags: UInt32 = 0, exptime: Int64 = 0) async throws -> Bool {
        try await store("add", key, data, flags: flags, exptime: exptime)
    }

    /// `replace`: stores only over an existing item. True if stored.
    @discardableResult
    public func replace(_ key: String, _ data: [UInt8], flags: UInt32 = 0, exptime: Int64 = 0) async throws -> Bool {
        try await store("replace", key, data, flags: flags, exptime: exptime)
    }

    /// `append`: adds `data` after an existing item's data. True if stored.
    @discardableResult
    public func append(_ key: String, _ data: [UInt8]) async throws -> Bool {
        try await store("append", key, data, flags: 0, exptime: 0)
    }

    /// `prepend`: adds `data` before an existing item's data. True if stored.
    @discardableResult
    public func prepend(_ key: String, _ data: [UInt8]) async throws -> Bool {
        try await store("prepend", key, data, flags: 0, exptime: 0)
    }

    /// `cas`: stores only if the item's CAS unique is still `cas` (from ``gets(_:)-(String)``).
    public func cas(_ key: String, _ data: [UInt8], cas: UInt64, flags: UInt32 = 0, exptime: Int64 = 0) async throws -> CASResult {
        // `cas <key> <flags> <exptime> <bytes> <cas unique>`: the unique comes after <bytes>.
        var bytes = RequestEncoder.line(["cas", key, String(flags), String(exptime), String(data.count), String(cas)])
        bytes.writeBytes(data)
        bytes.writeStaticString("\r\n")
        let (reply, daemon) = try await send(bytes, key: key)
        switch reply {
        case .status(.stored): return .stored
        case .status(.exists): return .exists
        case .status(.notFound): return .notFound
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: key, request: "cas")
        }
    }

    private func store(_ command: String, _ key: String, _ data: [UInt8], flags: UInt32, exptime: Int64) async throws -> Bool {
        let bytes = RequestEncoder.storage([command, key, String(flags), String(exptime)], data: data)
        let (reply, daemon) = try await send(bytes, key: key)
        switch reply {
        case .status(.stored): return true
        case .status(.notStored): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: key, request: command)
        }
    }

    // MARK: - Other key commands

    /// `delete`: true if an item was deleted, false if there was none. Also ends a lease on the key.
    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        let (reply, daemon) = try await send(RequestEncoder.line("delete", key), key: key)
        switch reply {
        case .status(.deleted): return true
        case .status(.notFound): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: key, request: "delete")
        }
    }

    /// `incr`: the new value, or nil if there is no item. Wraps at 2^64 as memcached does.
    public func increment(_ key: String, by delta: UInt64 = 1) async throws -> UInt64? {
        try await arithmetic("incr", key, delta)
    }

    /// `decr`: the new value (never below 0), or nil if there is no item.
    public func decrement(_ key: String, by delta: UInt64 = 1) async throws -> UInt64? {
        try await arithmetic("decr", key, delta)
    }

    private func arithmetic(_ command: String, _ key: String, _ delta: UInt64) async throws -> UInt64? {
        let (reply, daemon) = try await send(RequestEncoder.line(command, key, String(delta)), key: key)
        switch reply {
        case .number(let value): return value
        case .status(.notFound): return nil
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: key, request: command)
        }
    }

    /// `touch`: sets the item's exptime. True if the item exists.
    @discardableResult
    public func touch(_ key: String, exptime: Int64) async throws -> Bool {
        let (reply, daemon) = try await send(RequestEncoder.line("touch", key, String(exptime)), key: key)
        switch reply {
        case .status(.touched): return true
        case .status(.notFound): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: key, request: "touch")
        }
    }
}
