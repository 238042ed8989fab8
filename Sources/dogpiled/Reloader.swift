import CacheStore
import DogpiledConfiguration
import DogpiledServer
import Logging

/// SIGHUP: re-reads the config file and applies what can change while running (region budgets,
/// default exptimes, stale TTLs and lock waits, the mutex lock wait, verbosity), logging each
/// change. Every restart-only setting of the settings table that differs is reported with both
/// values (``ReloadPlan``), not applied; a bad file changes nothing.
///
/// The new settings are resolved exactly as at start-up (defaults < file < the same flags), so a
/// flag keeps winning over the file. Restart-only settings keep their running values; in
/// particular region budgets are checked against the running `-m`.
struct Reloader {
    let configPath: String?
    /// Defaults, the file as it is now, then the flags: `DogpiledCommand.effectiveConfiguration`.
    let resolve: () throws -> ServerConfiguration
    let running: ServerConfiguration
    let state: ServerState
    let logger: Logger

    func reload() {
        reloadAuthFile()
        guard let configPath else {
            logger.notice("reload: no --config file; nothing to reload")
            return
        }
        var fresh: ServerConfiguration
        var restartOnly: [ReloadPlan.Change] = []
        do {
            fresh = try resolve()
            restartOnly = ReloadPlan(running: running, fresh: fresh).needsRestart
            fresh.memoryLimitMegabytes = running.memoryLimitMegabytes
            try ConfigurationCheck.validate(fresh)
        } catch {
            logger.error("reload failed, settings unchanged: \(error)")
            return
        }
        var changes: [String] = []
        let current = state.verbosity.value
        if fresh.verbosity != current {
            state.verbosity.set(fresh.verbosity)
            changes.append("verbosity \(current) -> \(fresh.verbosity)")
        }
        let wait = state.mutexLockWait.load(ordering: .relaxed)
        if fresh.lockWaitMilliseconds != wait {
            state.mutexLockWait.store(fresh.lockWaitMilliseconds, ordering: .relaxed)
            changes.append("lock_wait_ms \(wait) -> \(fresh.lockWaitMilliseconds)")
        }
        changes += reloadRegions(fresh)
        if !restartOnly.isEmpty {
            let list = restartOnly.map(\.description).joined(separator: "; ")
            logger.warning("reload: these settings change only on restart, still running with the old values: \(list)")
        }
        logger.notice("reloaded \(configPath)", metadata: ["changes": "\(changes.isEmpty ? "none" : changes.joined(separator: "; "))"])
    }

    /// `-Y`: the auth file is read again (memcached's SIGHUP); a file that cannot be read or
    /// parsed leaves the running credentials in force.
    private func reloadAuthFile() {
        guard let authenticator = state.authenticator else { return }
        do {
            try authenticator.reload()
            logger.notice("reloaded auth file \(authenticator.path)")
        } catch {
            logger.error("auth file reload failed, credentials unchanged: \(error.message(path: authenticator.path))")
        }
    }

    private func reloadRegions(_ fresh: ServerConfiguration) -> [String] {
        let declared = Set(fresh.regions.map(\.name)).subtracting(["default"])
        let existing = Set(state.regions.all.dropFirst().map(\.name))
        guard declared == existing else {
            logger.warning("reload: regions cannot be added or removed while running (have \(existing.sorted()), file has \(declared.sorted()))")
            return []
        }
        var changes: [String] = []
        // Validated above: the sum cannot overflow.
        let carved = fresh.regions.filter { $0.name != "default" }.reduce(0) { $0 + ($1.memoryBytes ?? 0) }
        for region in state.regions.all {
            let settings = fresh.regions.first { $0.name == region.name } ?? RegionSettings(name: region.name)
            let memory = region.name == "default" ? fresh.memoryLimitBytes - carved : (settings.memoryBytes ?? region.store.memoryLimit)
            if memory != region.store.memoryLimit {
                changes.append("\(region.name).memory \(region.store.memoryLimit) -> \(memory)")
                region.store.memoryLimit = memory
            }
            if settings.defaultExptime != region.defaultExptime {
                changes.append("\(region.name).exptime \(region.defaultExptime) -> \(settings.defaultExptime)")
                region.defaultExptime = settings.defaultExptime
            }
            if settings.staleTTL != region.store.staleTTL {
                changes.append("\(region.name).stale_ttl \(region.store.staleTTL) -> \(settings.staleTTL)")
                region.store.staleTTL = settings.staleTTL
            }
            if settings.lockWaitMilliseconds != region.lockWaitMilliseconds {
                changes.append("\(region.name).lock_wait_ms \(region.lockWaitMilliseconds) -> \(settings.lockWaitMilliseconds)")
                region.lockWaitMilliseconds = settings.lockWaitMilliseconds
            }
            if settings.earlyRecomputeBeta != region.earlyRecomputeBeta {
                changes.append("\(region.name).beta \(region.earlyRecomputeBeta) -> \(settings.earlyRecomputeBeta)")
                region.earlyRecomputeBeta = settings.earlyRecomputeBeta
            }
        }
        return changes
    }
}
