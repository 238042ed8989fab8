import Logging

extension Region {
    /// The value of `key`, created by `creator` in at most one caller across every process and
    /// language sharing the daemons (dogpile.cache's `get_or_create`, coordinated by `lockgen`).
    ///
    /// - `HIT`: the fresh value. `STALE`: the stale copy (another caller is regenerating).
    /// - `VALUE ... GEN` (a stale copy, or with ``earlyRecompute`` a fresh value the daemon chose
    ///   to renew before it expires): with ``earlyRecompute`` on (the default), that value is
    ///   returned at once and `creator` runs in a background task that stores its value with
    ///   `setgen` (or gives the lease back with `unlockgen` if it throws; background errors are
    ///   logged, never thrown). So with early recompute on, a caller never waits for a
    ///   regeneration when there is any value to show. Hence `creator` is `@Sendable` and escaping.
    /// - `GEN` without a value (or with one when ``earlyRecompute`` is off): `creator` runs once
    ///   here and its value is stored with `setgen`. If it throws, the lease is given back
    ///   (`unlockgen`, so the next waiter is elected now) and the error rethrown.
    /// - Waiting: the daemon parks the request until the value is stored (then `HIT`).
    /// - `BUSY` (nobody stored within ``wait``): asks again until ``busyDeadline``, then throws
    ///   ``DogpileClientError/Code/busy``. The creator never runs without the lease...
    /// - ...except when the key's daemon is dead: then it runs, nothing is cached, and a warning
    ///   is logged (``getOrCreateResult(_:as:creator:)`` says so in its result).
    public func getOrCreate<Value: Codable & Sendable>(
        _ key: String, as type: Value.Type = Value.self,
        isolation: isolated (any Actor)? = #isolation,
        creator: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await getOrCreateResult(key, as: type, creator: creator).value
    }

    /// As ``getOrCreate(_:as:creator:)``, also saying where the value came from
    /// (``GetOrCreateResult/Source/servedWhileRegenerating`` when the creator runs in the background).
    public func getOrCreateResult<Value: Codable & Sendable>(
        _ key: String, as type: Value.Type = Value.self,
        isolation: isolated (any Actor)? = #isolation,
        creator: @escaping @Sendable () async throws -> Value
    ) async throws -> GetOrCreateResult<Value> {
        try await client.ensureRegionChecked(name)
        return try await lockgenLoop(cacheKey(key), key: key, wait: wait, deadline: .now + busyDeadline,
                                     bounded: true, early: earlyRecompute, creator: creator)
    }

    /// The lockgen loop for one cache key; `wait` is each `lockgen`'s `wait_ms`; `early` adds
    /// `early` to the `lockgen` line.
    func lockgenLoop<Value: Codable & Sendable>(
        _ cacheKey: String, key: String, wait: Duration, deadline: ContinuousClock.Instant, bounded: Bool,
        early: Bool,
        isolation: isolated (any Actor)? = #isolation,
        creator: @escaping @Sendable () async throws -> Value
    ) async throws -> GetOrCreateResult<Value> {
        var foreignValues = 0
        while true {
            let remaining = max(.zero, deadline - .now)
            let outcome: LockgenResult
            do {
                outcome = try await client.lockgen(cacheKey, lease: lease, wait: min(wait, remaining), bounded: bounded,
                                                   early: early)
            } catch let error as DogpileClientError where error.code == .daemonDead || error.code == .connectionFailed {
                let daemon = error.daemon ?? client.server(for: cacheKey).name
                logger.warning("daemon unavailable: running the creator without caching",
                               metadata: ["key": "\(cacheKey)", "daemon": "\(daemon)", "error": "\(error.message)"])
                return GetOrCreateResult(value: try await creator(), source: .createdUncached(daemon: daemon))
            }
            switch outcome {
            case .hit(let item):
                if let decoded = try ValueCodec.decode(item.data, as: Value.self) {
                    return GetOrCreateResult(value: decoded.value, source: .hit)
                }
                // Not this format (another writer's bytes): dogpile would treat it as no value.
                // Drop it so one caller is elected to regenerate; give up if it comes back.
                foreignValues += 1
                guard foreignValues <= 2 else {
                    throw DogpileClientError(.valueFormat, "the cached value is not in the region's format", key: cacheKey)
                }
                logger.warning("cached value not in the region's format: deleting it", metadata: ["key": "\(cacheKey)"])
                try await client.delete(cacheKey)
            case .stale(let item):
                if let decoded = try ValueCodec.decode(item.data, as: Value.self) {
                    return GetOrCreateResult(value: decoded.value, source: .stale)
                }
                if ContinuousClock.now >= deadline { throw busy(cacheKey) }
                try await Task.sleep(for: .milliseconds(20))
            case .generate(let lease):
                if earlyRecompute, let item = lease.staleItem, let shown = try? ValueCodec.decode(item.data, as: Value.self) {
                    regenerateInBackground(lease, creator: creator)
                    return GetOrCreateResult(value: shown.value, source: .servedWhileRegenerating)
                }
                return try await generate(lease, creator: creator)
            case .busy:
                if ContinuousClock.now >= deadline { throw busy(cacheKey) }
            }
        }
    }

    /// Runs the creator and `setgen` in a task of their own, which keeps the lease (and its
    /// connection) until then; its errors are logged, and a throwing creator's lease is given
    /// back with `unlockgen` so the next caller is elected at once.
    func regenerateInBackground<Value: Codable & Sendable>(
        _ lease: GenerationLease, creator: @escaping @Sendable () async throws -> Value
    ) {
        let region = self
        // Detached: the caller's actor (if any) and cancellation must not hold up or cut short
        // a regeneration the caller has already been answered for.
        client.background.start {
            do {
                _ = try await region.generate(lease, creator: creator)
            } catch {
                region.logger.warning("background regeneration failed; the lease was given back",
                                      metadata: ["key": "\(lease.key)", "error": "\(error)"])
            }
        }
    }

    /// Runs the creator under `lease` and stores its value; releases the lease if it throws.
    func generate<Value: Codable & Sendable>(
        _ lease: GenerationLease,
        isolation: isolated (any Actor)? = #isolation,
        creator: @escaping @Sendable () async throws -> Value
    ) async throws -> GetOrCreateResult<Value> {
        let value: Value
        let data: [UInt8]
        do {
            value = try await creator()
            data = try ValueCodec.encode(value)
        } catch {
            do {
                try await lease.release()
            } catch {
                logger.warning("cannot release the lease (its connection is closed, which ends it)",
                               metadata: ["key": "\(lease.key)", "error": "\(error)"])
            }
            throw error
        }
        return try await store(value, data, under: lease)
    }

    /// `setgen`s `data` under `lease`; the value is returned whether or not it was stored.
    func store<Value: Sendable>(_ value: Value, _ data: [UInt8], under lease: GenerationLease) async throws -> GetOrCreateResult<Value> {
        do {
            if try await lease.store(data, flags: ValueCodec.flags, exptime: exptime) {
                return GetOrCreateResult(value: value, source: .created)
            }
            logger.notice("lease ended before setgen (NOT_OWNER): the value was not stored", metadata: ["key": "\(lease.key)"])
            return GetOrCreateResult(value: value, source: .createdNotStored(reason: "NOT_OWNER"))
        } catch let error as DogpileClientError {
            logger.warning("setgen failed: the value was not stored", metadata: ["key": "\(lease.key)", "error": "\(error)"])
            _ = try? await lease.release()
            return GetOrCreateResult(value: value, source: .createdNotStored(reason: error.message))
        }
    }

    func busy(_ cacheKey: String) -> DogpileClientError {
        DogpileClientError(.busy, "no value after \(busyDeadline): another caller held the lease throughout",
                           daemon: client.server(for: cacheKey).name, key: cacheKey)
    }
}
