import CacheStore
import EventLoop
import MemcacheProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The text of `stats` and its groups, in memcached's format (`STAT <name> <value>\r\n` ... `END`).
///
/// `stats` is rare, so this builds a `String`; the request path never comes here.
struct StatsReport {
    let state: ServerState

    /// The reply to `stats <arguments>`.
    func render(arguments: UnsafeRawBufferPointer) -> String {
        let words = String(decoding: arguments, as: UTF8.self).split(separator: " ")
        switch words.first.map(String.init) {
        case nil: return block(Self.adding(Self.memcachedIdleStatistics, to: general()))
        case "settings": return block(Self.adding(Self.memcachedIdleSettings, to: settings()))
        case "items": return block(items())
        case "slabs": return block(slabs())
        case "sizes": return block([("sizes_status", "disabled")])
        case "reset": return "RESET\r\n"
        case "regions": return block(regions())
        case "locks": return block(locks())
        default: return "ERROR\r\n"
        }
    }

    private func block(_ lines: [(String, String)]) -> String {
        var text = ""
        text.reserveCapacity(lines.count * 32)
        for (name, value) in lines { text += "STAT \(name) \(value)\r\n" }
        return text + "END\r\n"
    }

    private func general() -> [(String, String)] {
        let configuration = state.configuration
        let storeStats = state.storeStatistics()
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ value: timeval) -> String {
            let micros = String(value.tv_usec)
            return "\(value.tv_sec)." + String(repeating: "0", count: max(0, 6 - micros.count)) + micros
        }
        var lines: [(String, String)] = [
            ("pid", String(getpid())),
            ("uptime", String(Int64(state.clock.now) - 2)),
            ("time", String(state.clock.unixTime(of: state.clock.now))),
            ("version", ServerState.version),
            ("libevent", EventBase.libeventVersion),
            ("pointer_size", String(MemoryLayout<Int>.size * 8)),
            ("rusage_user", seconds(usage.ru_utime)),
            ("rusage_system", seconds(usage.ru_stime)),
            ("max_connections", String(configuration.maxConnections)),
            ("curr_connections", String(state.currentConnections.load(ordering: .relaxed))),
            ("total_connections", String(state.totalConnections.load(ordering: .relaxed))),
            ("rejected_connections", String(state.rejectedConnections.load(ordering: .relaxed))),
            // One structure per open connection (memcached also counts its listeners').
            ("connection_structures", String(state.currentConnections.load(ordering: .relaxed))),
        ]
        let counters: [WorkerStatistics.Counter] = [
            .cmdGet, .cmdSet, .cmdFlush, .cmdTouch, .cmdMeta, .getHits, .getMisses,
            .deleteMisses, .deleteHits, .incrMisses, .incrHits, .decrMisses, .decrHits,
            .casMisses, .casHits, .casBadval, .touchHits, .touchMisses, .storeTooLarge, .storeNoMemory,
            .authCmds, .authErrors,
            .bytesRead, .bytesWritten,
        ]
        for counter in counters {
            lines.append((counter.name, String(state.total(counter))))
            // The store counts expired reads (it is where expiry is seen), in memcached's place.
            if counter == .getMisses { lines.append(("get_expired", String(storeStats.getExpired))) }
        }
        lines += [
            ("limit_maxbytes", String(state.admin.memoryLimit.load(ordering: .relaxed))),
            ("threads", String(configuration.threads)),
            ("conn_yields", String(state.total(.connYields))),
            ("output_referenced_bytes", String(OutputBuffer.referencedBytes)),
            ("idle_kicks", String(state.total(.idleKicks))),
            ("read_buf_oom", String(state.total(.readBufferOutOfMemory))),
            ("binary_protocol_closes", String(state.total(.binaryProtocolCloses))),
        ]
        lines += tlsGeneral()
        lines += [
            // Where memory beyond the items goes: buffered requests and queued replies.
            ("input_buffer_bytes", String(state.inputBudget.heldBytes)),
            // Copied bytes only: values sent by reference are items' own memory, reported apart.
            ("output_buffer_bytes", String(max(0, state.workerStatistics.reduce(0) { $0 + $1.queuedOutputBytes } - OutputBuffer.referencedBytes))),
            ("bytes", String(storeStats.bytes)),
            ("curr_items", String(storeStats.currentItems)),
            ("total_items", String(storeStats.totalItems)),
            ("expired_unfetched", String(storeStats.expiredUnfetched)),
            ("evicted_unfetched", String(storeStats.evictedUnfetched)),
            ("evictions", String(storeStats.evictions)),
            ("reclaimed", String(storeStats.reclaimed)),
            ("lru_crawler_starts", String(state.admin.crawlerStarts.load(ordering: .relaxed))),
        ]
        for (name, value) in state.coordinationStatistics.all { lines.append((name, String(value))) }
        return lines
    }

    private func settings() -> [(String, String)] {
        let configuration = state.configuration
        let admin = state.admin
        func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }
        func hundredths(_ bits: UInt64) -> String { Self.fixed(Double(bitPattern: bits), places: 2) }
        return [
            ("maxbytes", String(admin.memoryLimit.load(ordering: .relaxed))),
            ("maxconns", String(configuration.maxConnections)),
            ("tcpport", String(configuration.unixSocketPath == nil ? configuration.port : 0)),
            ("udpport", "0"),
            ("inter", configuration.listenAddresses.joined(separator: ",")),
            ("verbosity", String(state.verbosity.value)),
            ("oldest", "0"),
            ("evictions", configuration.evictionEnabled ? "on" : "off"),
            ("domain_socket", configuration.unixSocketPath ?? "NULL"),
            ("umask", String(configuration.unixSocketMode, radix: 8)),
            ("shutdown_command", yesNo(configuration.shutdownEnabled)),
            ("num_threads", String(configuration.threads)),
            ("num_threads_per_udp", String(configuration.threads)),
            ("stat_key_prefix", String(UnicodeScalar(configuration.statPrefixDelimiter))),
            ("detail_enabled", yesNo(state.prefixStatistics.isEnabled)),
            ("reqs_per_event", String(configuration.requestsPerEvent)),
            ("cas_enabled", configuration.casEnabled ? "yes" : "no"),
            ("tcp_backlog", String(configuration.backlog)),
            ("binding_protocol", "ascii"),
            ("auth_enabled_sasl", "no"),
            ("auth_enabled_ascii", state.authenticator?.path ?? "no"),
            ("item_size_max", String(configuration.itemSizeLimit)),
            ("maxconns_fast", "yes"),
            ("slab_reassign", "yes"),
            ("slab_automove", String(admin.slabAutomove.load(ordering: .relaxed))),
            ("slab_automove_ratio", hundredths(admin.slabAutomoveRatio.load(ordering: .relaxed))),
            ("lru_crawler", yesNo(admin.crawlerEnabled.load(ordering: .relaxed))),
            ("lru_crawler_sleep", String(admin.crawlerSleep.load(ordering: .relaxed))),
            ("lru_crawler_tocrawl", String(admin.crawlerToCrawl.load(ordering: .relaxed))),
            ("flush_enabled", yesNo(configuration.flushEnabled)),
            ("dump_enabled", yesNo(configuration.dumpEnabled)),
            ("hash_algorithm", "dogpiled-multiply-fold"),
            ("lru_maintainer_thread", "yes"),
            ("lru_segmented", yesNo(admin.segmented.load(ordering: .relaxed))),
            ("hot_lru_pct", String(admin.hotPercent.load(ordering: .relaxed))),
            ("warm_lru_pct", String(admin.warmPercent.load(ordering: .relaxed))),
            ("hot_max_factor", hundredths(admin.hotMaxFactor.load(ordering: .relaxed))),
            ("warm_max_factor", hundredths(admin.warmMaxFactor.load(ordering: .relaxed))),
            ("temp_lru", yesNo(admin.temporaryLRU.load(ordering: .relaxed))),
            ("temporary_ttl", String(admin.temporaryTTL.load(ordering: .relaxed))),
            ("store_shards", String(configuration.shardCount)),
            ("idle_timeout", String(configuration.idleTimeoutSeconds)),
            ("input_buffer_limit", String(configuration.effectiveInputBufferLimit)),
            ("tcp_keepalive", configuration.tcpKeepalive ? "yes" : "no"),
            ("tcp_keepalive_idle", String(configuration.tcpKeepaliveIdleSeconds)),
            ("tcp_keepalive_interval", String(configuration.tcpKeepaliveIntervalSeconds)),
            ("tcp_keepalive_count", String(configuration.tcpKeepaliveProbes)),
            ("state_dir", configuration.stateDirectory ?? "NULL"),
        ] + tlsSettings()
    }

    /// `value` printed by C's `%.<places>f` (glibc rounds the exact binary value, ties to even).
    static func fixed(_ value: Double, places: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 400)
        let count = withVaList([value]) { arguments in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, "%.\(places)f", arguments) }
        }
        return String(decoding: buffer.prefix(max(0, min(Int(count), buffer.count - 1))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// One block per region: its budget, use and settings.
    private func regions() -> [(String, String)] {
        var lines: [(String, String)] = []
        for region in state.regions.all {
            let stats = region.store.statistics()
            let prefix = region.name
            lines += [
                ("\(prefix):memory_limit", String(region.store.memoryLimit)),
                ("\(prefix):bytes", String(stats.bytes)),
                ("\(prefix):curr_items", String(stats.currentItems)),
                ("\(prefix):total_items", String(stats.totalItems)),
                ("\(prefix):evictions", String(stats.evictions)),
                ("\(prefix):reclaimed", String(stats.reclaimed)),
                ("\(prefix):default_exptime", String(region.defaultExptime)),
                ("\(prefix):stale_ttl", String(region.store.staleTTL)),
                ("\(prefix):lock_wait_ms", String(region.lockWaitMilliseconds)),
                ("\(prefix):beta", String(region.earlyRecomputeBeta)),
                ("\(prefix):regenerations", String(region.regenerationFigures.count)),
                ("\(prefix):regeneration_mean_ms", String(region.regenerationFigures.meanMilliseconds)),
            ]
        }
        return lines
    }

    /// The lock table: entries against `max_locks`, leases, mutex holds and waiters.
    private func locks() -> [(String, String)] {
        let leases = state.leases.counts()
        let mutexes = state.mutexes.counts()
        return [
            ("max_locks", String(state.configuration.maxLocks)),
            ("entries", String(state.lockBudget.count)),
            ("generation_keys", String(leases.entries)),
            ("generation_leases", String(leases.holds)),
            ("generation_waiters", String(leases.waiters)),
            ("mutexes", String(mutexes.entries)),
            ("mutex_holds", String(mutexes.holds)),
            ("mutex_waiters", String(mutexes.waiters)),
            // Entries visited by connection closes: O(what each connection held), not the table.
            ("close_visits", String(state.leases.closeVisits + state.mutexes.closeVisits)),
        ]
    }

    /// Per memcached slab class holding items: the class memcached would put each item in (as
    /// `me`, `stats cachedump` and `lru_crawler metadump` report it). dogpiled has one LRU list,
    /// not memcached's HOT/WARM/TEMP segments, so every item counts as COLD (memcached's flat
    /// mode puts them there too).
    private func items() -> [(String, String)] {
        let classes = state.storeStatistics().classes
        let temporaryLRU = state.admin.temporaryLRU.load(ordering: .relaxed)
        var lines: [(String, String)] = []
        for (id, figures) in classes.enumerated() where figures.number > 0 {
            let prefix = "items:\(id):"
            lines += [
                (prefix + "number", String(figures.number)),
                (prefix + "number_hot", "0"),
                (prefix + "number_warm", "0"),
                (prefix + "number_cold", String(figures.number)),
            ]
            // memcached lists the temporary LRU only while it is on (`lru temp_ttl`).
            if temporaryLRU { lines.append((prefix + "number_temp", "0")) }
            lines += [
                (prefix + "age_hot", "0"),
                (prefix + "age_warm", "0"),
                (prefix + "mem_requested", String(figures.memoryRequested)),
                (prefix + "evicted", String(figures.evicted)),
                (prefix + "reclaimed", String(figures.reclaimed)),
                (prefix + "expired_unfetched", String(figures.expiredUnfetched)),
                (prefix + "evicted_unfetched", String(figures.evictedUnfetched)),
            ]
        }
        return lines
    }

    /// No slab classes: memcached's totals only, with the store's bytes as `total_malloced`.
    private func slabs() -> [(String, String)] {
        let storeStats = state.storeStatistics()
        return [
            ("active_slabs", "0"),
            ("total_malloced", String(storeStats.bytes)),
        ]
    }
}
