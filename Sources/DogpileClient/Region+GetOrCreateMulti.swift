import Logging

extension Region {
    /// The values of `keys` (in the same order), creating the missing ones with one call of
    /// `creator`, which gets the keys to create and returns their values in that order
    /// (dogpile.cache's `get_or_create_multi`).
    ///
    /// First every key is asked with `lockgen ... 0` (no waiting, all at once): fresh and stale
    /// values are used, and the keys whose lease this caller got are created together in one
    /// `creator` call and stored with `setgen`. Only then, holding no lease, does it wait for the
    /// keys someone else is creating, as ``getOrCreate(_:as:creator:)`` does (should one of those
    /// fall to this caller, `creator` is called again with that key alone). Never waiting while
    /// holding leases is what keeps two callers with overlapping keys from waiting on each other.
    public func getOrCreateMulti<Value: Codable & Sendable>(
        _ keys: [String], as type: Value.Type = Value.self,
        isolation: isolated (any Actor)? = #isolation,
        creator: @escaping @Sendable ([String]) async throws -> [Value]
    ) async throws -> [Value] {
        try await client.ensureRegionChecked(name)
        var unique: [String] = []
        var seen = Set<String>()
        for key in keys where seen.insert(key).inserted { unique.append(key) }

        let first = try await firstPass(unique, as: Value.self)
        var values: [String: Value] = [:]
        var leases: [(key: String, lease: GenerationLease)] = []
        var uncached: [String] = []
        var waiting: [String] = []
        for key in unique {
            switch first[key]! {
            case .value(let value): values[key] = value
            case .lease(let lease): leases.append((key, lease))
            case .dead: uncached.append(key)
            case .busy: waiting.append(key)
            }
        }

        let toCreate = leases.map(\.key) + uncached
        if !toCreate.isEmpty {
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
            for (key, value) in zip(toCreate, created) { values[key] = value }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, entry) in leases.enumerated() {
                    let data = try ValueCodec.encode(created[index])
                    let value = created[index]
                    group.addTask { _ = try await self.store(value, data, under: entry.lease) }
                }
                try await group.waitForAll()
            }
            if !uncached.isEmpty {
                logger.warning("daemon unavailable: created without caching", metadata: ["keys": "\(uncached)"])
            }
        }

        let deadline = ContinuousClock.now + busyDeadline
        for key in waiting {
            let result = try await lockgenLoop(cacheKey(key), key: key, wait: wait, deadline: deadline, bounded: true,
                                          early: false) {
                let made = try await creator([key])
                guard made.count == 1 else {
                    throw DogpileClientError(.invalidArgument, "the creator returned \(made.count) values for 1 key")
                }
                return made[0]
            }
            values[key] = result.value
        }
        return keys.map { values[$0]! }
    }

    private enum FirstPass<Value: Sendable>: Sendable {
        case value(Value)
        case lease(GenerationLease)
        case dead
        case busy
    }

    /// `lockgen <key> <lease> 0` for every key at once, on connections of their own.
    private func firstPass<Value: Codable & Sendable>(_ keys: [String], as type: Value.Type) async throws -> [String: FirstPass<Value>] {
        try await withThrowingTaskGroup(of: (String, FirstPass<Value>).self) { group in
            for key in keys {
                let cacheKey = cacheKey(key)
                group.addTask {
                    do {
                        switch try await client.lockgen(cacheKey, lease: lease, wait: .zero, bounded: false) {
                        case .hit(let item), .stale(let item):
                            // A value in another format goes the slow way, which deals with it.
                            guard let decoded = try ValueCodec.decode(item.data, as: Value.self) else { return (key, .busy) }
                            return (key, .value(decoded.value))
                        case .generate(let lease):
                            return (key, .lease(lease))
                        case .busy:
                            return (key, .busy)
                        }
                    } catch let error as DogpileClientError where error.code == .daemonDead || error.code == .connectionFailed {
                        return (key, .dead)
                    }
                }
            }
            var results: [String: FirstPass<Value>] = [:]
            for try await (key, outcome) in group { results[key] = outcome }
            return results
        }
    }
}
