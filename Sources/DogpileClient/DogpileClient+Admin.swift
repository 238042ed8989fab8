import NIOCore

extension DogpileClient {
    /// `flush_all [delay]` on every daemon (a hard invalidation of every region).
    public func flushAll(delay: Int64? = nil) async throws {
        let bytes = RequestEncoder.line(["flush_all"] + (delay.map { [String($0)] } ?? []))
        for (daemon, reply) in try await sendToAll(bytes) where reply != .status(.ok) {
            throw DogpileClientError.unexpected(reply, daemon: daemon.name, request: "flush_all")
        }
    }

    /// `stats [group]` from every daemon (`group`: nil for the general stats, or `regions`,
    /// `locks`, `items`, `slabs`, `settings`...): each daemon's lines in order, by daemon name.
    public func stats(_ group: String? = nil) async throws -> [String: [ReplyStat]] {
        let bytes = RequestEncoder.line(["stats"] + (group.map { [$0] } ?? []))
        var result: [String: [ReplyStat]] = [:]
        for (daemon, reply) in try await sendToAll(bytes) {
            switch reply {
            case .stats(let lines): result[daemon.name] = lines
            case .values([], .end): result[daemon.name] = []
            default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, request: "stats")
            }
        }
        return result
    }

    /// `version` of every daemon, by daemon name.
    public func version() async throws -> [String: String] {
        var result: [String: String] = [:]
        for (daemon, reply) in try await sendToAll(RequestEncoder.line("version")) {
            guard case .version(let text) = reply else {
                throw DogpileClientError.unexpected(reply, daemon: daemon.name, request: "version")
            }
            result[daemon.name] = text
        }
        return result
    }

    /// `invalidate <region> hard|soft` on every daemon (a region's keys are spread over all).
    /// A daemon that cannot be reached is skipped with a warning and returned (its values stay
    /// as they are until it comes back). Throws ``DogpileClientError/Code/regionNotDeclared`` if
    /// a daemon answers `NOT_FOUND`.
    @discardableResult
    public func invalidate(region: String, _ mode: Invalidation) async throws -> [ServerAddress] {
        try KeyMangler.validateRegionName(region)
        let bytes = RequestEncoder.line("invalidate", region, mode.rawValue)
        let timeout = configuration.requestTimeout.timeAmount
        let logger = self.logger
        return try await withThrowingTaskGroup(of: ServerAddress?.self) { group in
            for daemon in daemons {
                group.addTask {
                    let reply: Reply
                    do {
                        reply = try await daemon.send(bytes, timeout: timeout)
                    } catch let error as DogpileClientError where error.code == .daemonDead || error.code == .connectionFailed {
                        logger.warning("invalidate skipped an unavailable daemon", metadata: ["region": "\(region)", "daemon": "\(daemon.name)"])
                        return daemon.address
                    }
                    switch reply {
                    case .status(.ok): return nil
                    case .status(.notFound):
                        throw DogpileClientError(.regionNotDeclared, Self.notDeclaredMessage(region, daemon.name), daemon: daemon.name)
                    default:
                        throw DogpileClientError.unexpected(reply, daemon: daemon.name, request: "invalidate")
                    }
                }
            }
            var skipped: [ServerAddress] = []
            for try await address in group { if let address { skipped.append(address) } }
            return skipped
        }
    }

    /// Checks with `stats regions` that every region in `names` is declared on every daemon;
    /// throws ``DogpileClientError/Code/regionNotDeclared`` naming the first region and daemon
    /// that are not. A region missing on a daemon would silently live in that daemon's `default`
    /// region, with its memory budget and without its settings. Daemons that cannot be reached
    /// are skipped with a warning (their keys miss anyway).
    public func checkRegions(_ names: [String]) async throws {
        for name in names { try KeyMangler.validateRegionName(name) }
        let timeout = configuration.requestTimeout.timeAmount
        for daemon in daemons {
            let reply: Reply
            do {
                reply = try await daemon.send(RequestEncoder.line("stats", "regions"), timeout: timeout)
            } catch let error as DogpileClientError where error.code == .daemonDead || error.code == .connectionFailed {
                logger.warning("cannot check regions on an unavailable daemon", metadata: ["daemon": "\(daemon.name)", "error": "\(error)"])
                continue
            }
            let lines: [ReplyStat]
            switch reply {
            case .stats(let found): lines = found
            case .values([], .end): lines = []
            case .error:
                throw DogpileClientError(.regionNotDeclared, "daemon \(daemon.name) does not know `stats regions`: is it dogpiled?",
                                         daemon: daemon.name)
            default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, request: "stats regions")
            }
            let declared = Set(lines.compactMap { stat -> Substring? in
                guard stat.name.hasSuffix(":memory_limit") else { return nil }
                return stat.name.dropLast(":memory_limit".count)
            })
            for name in names where !declared.contains(Substring(name)) {
                throw DogpileClientError(.regionNotDeclared, Self.notDeclaredMessage(name, daemon.name), daemon: daemon.name)
            }
        }
        // Checked up front: the regions' first use need not ask again.
        regionChecks.withLock { checks in
            for name in names where checks[name] == nil { checks[name] = Task {} }
        }
    }

    /// Runs ``checkRegions(_:)`` for `name` the first time the region is used (when
    /// ``Configuration/checkRegionsOnFirstUse`` is on). Concurrent first uses share one check;
    /// a check that failed is tried again by the next use.
    func ensureRegionChecked(_ name: String) async throws {
        guard configuration.checkRegionsOnFirstUse else { return }
        let check = regionChecks.withLock { checks -> Task<Void, any Error> in
            if let running = checks[name] { return running }
            let task = Task { try await self.checkRegions([name]) }
            checks[name] = task
            return task
        }
        do {
            try await check.value
        } catch {
            regionChecks.withLock { checks in
                if checks[name] == check { checks[name] = nil }
            }
            throw error
        }
    }

    static func notDeclaredMessage(_ region: String, _ daemon: String) -> String {
        "region '\(region)' is not declared on daemon \(daemon); declare it with --region \(region):memory=64m (or in the config file)"
    }
}
