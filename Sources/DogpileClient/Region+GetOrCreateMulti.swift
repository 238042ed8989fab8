import Logging

extension Region {
    /// The values of `keys` (in the same order), creating the missing ones with one call of
    /// `creator`, which gets the keys to create and returns their values in that order
    /// (dogpile.cache's `get_or_create_multi`).
    ///
    /// First every key is asked at once with `mlockgen` (one request per daemon, per
    /// ``DogpileClient/mlockgenChunk`` keys, all daemons concurrently; it never waits):
    /// - fresh and stale values are used;
    /// - keys granted a lease with a value to show (`VALUE ... GEN`: a stale copy, or a fresh
    ///   value renewed early) are, with ``earlyRecompute`` on, answered with that value and
    ///   regenerated in a background task (one `creator` call for all of them, then `setgen`;
    ///   `unlockgen` if it throws; errors logged, never thrown);
    /// - keys granted a lease without a value (or with one, when ``earlyRecompute`` is off) are
    ///   created together in one `creator` call here and stored with `setgen` on the connection
    ///   that got the lease;
    /// - keys someone else is creating (`MISS`) are waited for only then, holding no lease,
    ///   concurrently, each with a plain `lockgen` as ``getOrCreate(_:as:creator:)`` does
    ///   (should one of those fall to this caller, `creator` is called with that key alone).
    ///
    /// Never waiting while holding leases is what keeps two callers with overlapping keys from
    /// waiting on each other.
    public func getOrCreateMulti<Value: Codable & Sendable>(
        _ keys: [String], as type: Value.Type = Value.self,
        isolation: isolated (any Actor)? = #isolation,
        creator: @escaping @Sendable ([String]) async throws -> [Value]
    ) async throws -> [Value] {
        try await client.ensureRegionChecked(name)
        var unique: [String] = []
        var seen = Set<String>()
        for key in keys where seen.insert(key).inserted { unique.append(key) }

        let answers = try await client.mlockgen(unique.map { cacheKey($0) }, lease: lease)
        var values: [String: Value] = [:]
        var leases: [(key: String, lease: GenerationLease)] = []
        var background: [(key: String, lease: GenerationLease)] = []
        var uncached: [String] = []
        var waiting: [String] = []
        for (key, answer) in zip(unique, answers) {
            switch answer {
            case .hit(let item), .stale(let item):
                // A value in another format goes the slow way, which deals with it.
                if let decoded = try? ValueCodec.decode(item.data, as: Value.self) {
                    values[key] = decoded.value
                } else {
                    waiting.append(key)
                }
            case .generate(let lease):
                if earlyRecompute, let item = lease.staleItem, let shown = try? ValueCodec.decode(item.data, as: Value.self) {
                    values[key] = shown.value
                    background.append((key, lease))
                } else {
                    leases.append((key, lease))
                }
            case .miss:
                waiting.append(key)
            case .failed(let error) where error.code == .daemonDead || error.code == .connectionFailed:
                uncached.append(key)
            case .failed:
                // e.g. too many locks for this key: the plain lockgen path retries and reports.
                waiting.append(key)
            }
        }

        if !background.isEmpty { regenerateInBackground(background, creator: creator) }

        let toCreate = leases.map(\.key) + uncached
        if !toCreate.isEmpty {
            let created = try await createAndStore(toCreate, leases: leases, creator: creator)
            for (key, value) in zip(toCreate, created) { values[key] = value }
            if !uncached.isEmpty {
                logger.warning("daemon unavailable: created without caching", metadata: ["keys": "\(uncached)"])
            }
        }

        if !waiting.isEmpty {
            let deadline = ContinuousClock.now + busyDeadline
            let waited = try await withThrowingTaskGroup(of: (String, Value).self) { group in
                for key in waiting {
                    group.addTask {
                        let result = try await self.lockgenLoop(self.cacheKey(key), key: key, wait: self.wait, deadline: deadline,
                                                                bounded: true, early: false) {
                            let made = try await creator([key])
                            guard made.count == 1 else {
                                throw DogpileClientError(.invalidArgument, "the creator returned \(made.count) values for 1 key")
                            }
                            return made[0]
                        }
                        return (key, result.value)
                    }
                }
                var waited: [String: Value] = [:]
                for try await (key, value) in group { waited[key] = value }
                return waited
            }
            values.merge(waited) { _, new in new }
        }
        return keys.map { values[$0]! }
    }

    /// One `creator` call for `toCreate` (the keys of `leases` first, in order), then `setgen`
    /// under each lease, concurrently (pipelined on a shared connection). Releases every lease if
    /// the creator throws, and rethrows.
    private func createAndStore<Value: Codable & Sendable>(
        _ toCreate: [String], leases: [(key: String, lease: GenerationLease)],
        creator: @Sendable ([String]) async throws -> [Value]
    ) async throws -> [Value] {
        let created: [Value]
        do {
            created = try await creator(toCreate)
            guard created.count == toCreate.count else {
                throw DogpileClientError(.invalidArgument, "the creator returned \(created.count) values for \(toCreate.count) keys")
            }
        } catch {
            for (_, lease) in leases { _ = try? await lease.release() }
            throw error
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, entry) in leases.enumerated() {
                let data = try ValueCodec.encode(created[index])
                let value = created[index]
                group.addTask { _ = try await self.store(value, data, under: entry.lease) }
            }
            try await group.waitForAll()
        }
        return created
    }

    /// Regenerates the keys of `leases` in a task of its own (see ``getOrCreateMulti(_:as:creator:)``).
    private func regenerateInBackground<Value: Codable & Sendable>(
        _ leases: [(key: String, lease: GenerationLease)],
        creator: @escaping @Sendable ([String]) async throws -> [Value]
    ) {
        let region = self
        let keys = leases.map(\.key)
        // A tuple array is not Sendable; the leases are.
        let held = leases.map(\.lease)
        client.background.start {
            do {
                _ = try await region.createAndStore(keys, leases: Array(zip(keys, held)).map { (key: $0.0, lease: $0.1) },
                                                    creator: creator)
            } catch {
                region.logger.warning("background regeneration failed; the leases were given back",
                                      metadata: ["keys": "\(keys)", "error": "\(error)"])
            }
        }
    }
}
