import NIOCore

extension DogpileClient {
    /// The most keys one `mlockgen` line carries: a 250-byte key each keeps a line near 25 KB,
    /// and one daemon's answers for a chunk come back while the next chunk is decided.
    public static let mlockgenChunk = 100

    /// `mlockgen <lease_ms> <key>...`: every key decided at once, as `lockgen <key> <lease_ms> 0
    /// early` would, except that a key someone else regenerates with no value to show answers
    /// ``MultiLockgenResult/miss`` instead of waiting. The answers come in the order of `keys`.
    ///
    /// One request per daemon (per ``mlockgenChunk`` keys), all daemons at once. The leases
    /// granted by one request share its connection, which stays checked out until the last of
    /// them is stored or released. A daemon that is dead or fails answers
    /// ``MultiLockgenResult/failed(_:)`` for its keys; only an invalid key throws.
    public func mlockgen(_ keys: [String], lease: Duration = defaultLease) async throws -> [MultiLockgenResult] {
        for key in keys { try KeyMangler.validateKey(key) }
        var byDaemon: [ObjectIdentifier: (daemon: Daemon, indices: [Int])] = [:]
        for (index, key) in keys.enumerated() {
            let daemon = daemon(for: key)
            byDaemon[ObjectIdentifier(daemon), default: (daemon, [])].indices.append(index)
        }
        var chunks: [(daemon: Daemon, indices: [Int])] = []
        for (daemon, indices) in byDaemon.values {
            for start in stride(from: 0, to: indices.count, by: Self.mlockgenChunk) {
                chunks.append((daemon, Array(indices[start..<min(start + Self.mlockgenChunk, indices.count)])))
            }
        }
        let leaseMilliseconds = String(lease.milliseconds(minimum: 1))
        return await withTaskGroup(of: ([Int], [MultiLockgenResult]).self) { group in
            for chunk in chunks {
                let chunkKeys = chunk.indices.map { keys[$0] }
                group.addTask {
                    (chunk.indices, await self.mlockgen(chunkKeys, on: chunk.daemon, leaseMilliseconds: leaseMilliseconds))
                }
            }
            var results = [MultiLockgenResult?](repeating: nil, count: keys.count)
            for await (indices, answers) in group {
                for (index, answer) in zip(indices, answers) { results[index] = answer }
            }
            return results.map { $0! }
        }
    }

    /// One `mlockgen` request to `daemon`; never throws (failures answer every key).
    private func mlockgen(_ keys: [String], on daemon: Daemon, leaseMilliseconds: String) async -> [MultiLockgenResult] {
        func failed(_ error: DogpileClientError) -> [MultiLockgenResult] {
            keys.map { key in
                var error = error
                error.key = key
                return .failed(error)
            }
        }
        if daemon.isDead {
            return failed(DogpileClientError(.daemonDead, "marked dead after a failure", daemon: daemon.name))
        }
        let connection: Connection
        do {
            // Unbounded: a caller may already hold leases from another chunk, and must not wait
            // behind callers who may be waiting for those.
            connection = try await daemon.pool.checkout(bounded: false)
        } catch let error as DogpileClientError {
            if error.code == .connectionFailed { daemon.markDead() }
            return failed(error)
        } catch {
            return failed(DogpileClientError(.connectionFailed, "\(error)", daemon: daemon.name))
        }
        let reply: Reply
        do {
            reply = try await connection.send(RequestEncoder.line(["mlockgen", leaseMilliseconds] + keys),
                                              timeout: configuration.requestTimeout.timeAmount, mode: .lockgenBlocks)
        } catch {
            daemon.pool.checkin(connection, reusable: false)
            return failed(error as? DogpileClientError ?? DogpileClientError(.connectionFailed, "\(error)", daemon: daemon.name))
        }
        guard case .lockgenBlocks(let blocks) = reply, blocks.count == keys.count else {
            daemon.pool.checkin(connection, reusable: DogpileClientError.from(reply, daemon: daemon.name) != nil)
            return failed(DogpileClientError.unexpected(reply, daemon: daemon.name, request: "mlockgen"))
        }
        let grants = blocks.filter { if case .generate = $0 { return true } else { return false } }.count
        let holder = grants > 0 ? LeaseConnection(connection: connection, pool: daemon.pool, holders: grants) : nil
        if holder == nil { daemon.pool.checkin(connection) }
        let requestTimeout = configuration.requestTimeout.timeAmount
        return zip(keys, blocks).map { key, block in
            switch block {
            case .hit(let item): return .hit(item)
            case .stale(let item): return .stale(item)
            case .generate(let token, let item):
                return .generate(GenerationLease(key: key, token: token, staleItem: item, holder: holder!,
                                                 requestTimeout: requestTimeout))
            case .miss: return .miss
            case .serverError(let message):
                return .failed(DogpileClientError.unexpected(.serverError(message), daemon: daemon.name, key: key,
                                                             request: "mlockgen"))
            }
        }
    }
}
