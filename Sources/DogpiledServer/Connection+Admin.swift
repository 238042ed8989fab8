import CacheStore
import MemcacheProtocol

#if canImport(Glibc)
import Glibc
#endif

/// memcached's administrative commands, with the replies and checks of 1.6.18's
/// `process_memlimit_command`, `process_lru_crawler_command`, `process_lru_command`,
/// `process_slabs_command`, `process_watch_command` and `process_shutdown_command`.
extension Connection {
    func executeAdmin(_ request: AdminRequest, _ buffer: UnsafeRawBufferPointer) {
        if let cursor = dumpCursor {
            // A metadump that stopped at the output high-water goes on where it stopped.
            return metadump(cursor.classes, from: cursor)
        }
        let arguments = AdminArguments(request, buffer)
        switch request.verb {
        case .cacheMemlimit: cacheMemlimit(arguments)
        case .lruCrawler: lruCrawler(arguments, buffer)
        case .lru: lru(arguments)
        case .slabs: slabs(arguments)
        case .watch:
            // dogpiled has no log stream to watch: refused as memcached refuses it under -W.
            adminReply("CLIENT_ERROR watch commands not allowed", arguments.noreply)
        case .shutdown: shutdown(arguments)
        }
    }

    private func adminReply(_ text: String, _ noreply: Bool = false) {
        guard !noreply else { return }
        output.append(string: text)
        output.append("\r\n")
    }

    /// `cache_memlimit <megabytes> [noreply]`: the default region takes the new total less the
    /// declared regions' budgets, evicting down to it at once.
    private func cacheMemlimit(_ arguments: AdminArguments) {
        let noreply = arguments.noreply
        guard let megabytes = arguments.unsigned(0) else { return adminReply("ERROR", noreply) }
        guard megabytes >= 8 else { return adminReply("MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m", noreply) }
        guard megabytes <= 1_000_000_000 else {
            return adminReply("MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes", noreply)
        }
        let bytes = Int(megabytes) << 20
        guard bytes <= Settings.maximumMemory else {
            return adminReply("MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust", noreply)
        }
        let regions = state.regions
        let carved = regions.all.dropFirst().reduce(0) { $0 + $1.store.memoryLimit }
        // The rule start-up applies: the default region keeps at least 1 MiB.
        guard bytes - carved >= 1 << 20 else {
            return adminReply("CLIENT_ERROR cache_memlimit below the region budgets (\((carved >> 20) + 1)m at least)", noreply)
        }
        regions.defaultRegion.store.resize(to: bytes - carved)
        state.admin.memoryLimit.store(bytes, ordering: .relaxed)
        if state.verbosity.value > 0 { state.logger.info("maxbytes adjusted to \(megabytes)m") }
        adminReply("OK", noreply)
    }

    private func lruCrawler(_ arguments: AdminArguments, _ buffer: UnsafeRawBufferPointer) {
        let admin = state.admin
        let count = arguments.tokenCount
        if count == 4 && arguments.word(0, is: "crawl") {
            guard admin.crawlerEnabled.load(ordering: .relaxed) else { return adminReply("CLIENT_ERROR lru crawler disabled") }
            switch CrawlerClasses(arguments[1]) {
            case .badClass: adminReply("BADCLASS invalid class id")
            case .hash: adminReply("ERROR an unknown error happened")  // hash walks are for metadump only
            case .classes(let ids) where ids.isEmpty: adminReply("NOTSTARTED no items to crawl")
            case .all, .classes:
                admin.crawlerStarts.add(1, ordering: .relaxed)
                for region in state.regions.all { region.store.crawlExpired(bucketsPerShard: Int.max) }
                adminReply("OK")
            }
        } else if count == 4 && arguments.word(0, is: "metadump") {
            guard admin.crawlerEnabled.load(ordering: .relaxed) else { return adminReply("CLIENT_ERROR lru crawler disabled") }
            guard state.configuration.dumpEnabled else { return adminReply("ERROR metadump not allowed") }
            guard output.count == 0 else { return adminReply("ERROR cannot pipeline other commands before metadump") }
            let classes = CrawlerClasses(arguments[1])
            switch classes {
            case .badClass: adminReply("BADCLASS invalid class id")
            case .classes(let ids) where ids.isEmpty: adminReply("NOTSTARTED no items to crawl")
            default:
                admin.crawlerStarts.add(1, ordering: .relaxed)
                metadump(classes, from: DumpCursor())
            }
        } else if count == 4 && arguments.word(0, is: "tocrawl") {
            guard let value = arguments.unsigned(1) else { return adminReply("CLIENT_ERROR bad command line format") }
            admin.crawlerToCrawl.store(value, ordering: .relaxed)
            adminReply("OK")
        } else if count == 4 && arguments.word(0, is: "sleep") {
            guard let value = arguments.unsigned(1) else { return adminReply("CLIENT_ERROR bad command line format") }
            guard value <= 1_000_000 else { return adminReply("CLIENT_ERROR sleep must be one second or less") }
            admin.crawlerSleep.store(value, ordering: .relaxed)
            adminReply("OK")
        } else if count == 3 && arguments.word(0, is: "enable") {
            // memcached fails to start a second crawler thread.
            let started = admin.crawlerEnabled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
            adminReply(started ? "OK" : "ERROR failed to start lru crawler thread")
        } else if count == 3 && arguments.word(0, is: "disable") {
            admin.crawlerEnabled.store(false, ordering: .relaxed)
            adminReply("OK")
        } else {
            adminReply("ERROR")
        }
    }

    private func lru(_ arguments: AdminArguments) {
        let noreply = arguments.noreply
        let admin = state.admin
        let count = arguments.tokenCount
        if arguments.word(0, is: "tune") && count >= 7 {
            guard let hot = arguments.unsigned(1), let warm = arguments.unsigned(2),
                  let hotFactor = arguments.decimal(3), let warmFactor = arguments.decimal(4) else {
                return adminReply("ERROR", noreply)
            }
            // memcached adds the two as 32-bit unsigned numbers.
            guard hot &+ warm <= 80 else { return adminReply("ERROR hot and warm pcts must not exceed 80", noreply) }
            // Written as memcached tests it, so a NaN factor passes as it does there.
            if warmFactor <= 0 || hotFactor <= 0 {
                return adminReply("ERROR hot/warm age factors must be greater than 0", noreply)
            }
            admin.hotPercent.store(hot, ordering: .relaxed)
            admin.warmPercent.store(warm, ordering: .relaxed)
            admin.hotMaxFactor.store(hotFactor.bitPattern, ordering: .relaxed)
            admin.warmMaxFactor.store(warmFactor.bitPattern, ordering: .relaxed)
            adminReply("OK", noreply)
        } else if arguments.word(0, is: "mode") && count >= 4 {
            if arguments.word(1, is: "flat") || arguments.word(1, is: "segmented") {
                admin.segmented.store(arguments.word(1, is: "segmented"), ordering: .relaxed)
                adminReply("OK", noreply)
            } else {
                adminReply("ERROR", noreply)
            }
        } else if arguments.word(0, is: "temp_ttl") && count >= 4 {
            guard let ttl = arguments.signed(1) else { return adminReply("ERROR", noreply) }
            admin.temporaryLRU.store(ttl >= 0, ordering: .relaxed)
            if ttl >= 0 { admin.temporaryTTL.store(ttl, ordering: .relaxed) }
            adminReply("OK", noreply)
        } else {
            adminReply("ERROR", noreply)
        }
    }

    private func slabs(_ arguments: AdminArguments) {
        let count = arguments.tokenCount
        if count == 5 && arguments.word(0, is: "reassign") {
            guard let source = arguments.signed(1), let destination = arguments.signed(2) else {
                return adminReply("CLIENT_ERROR bad command line format")
            }
            // dogpiled allocates each item exactly: no class ever has a spare page to move.
            // -1 asks memcached to pick a source with spare pages; there is none, so the id stays
            // invalid, as in memcached with no spare pages anywhere.
            let classes = Int32(MemcachedSlabClasses.count)
            if source == destination {
                adminReply("SAME src and dst class are identical")
            } else if !(0...classes).contains(source) || !(0...classes).contains(destination) {
                adminReply("BADCLASS invalid src or dst class id")
            } else {
                adminReply("NOSPARE source class has no spare pages")
            }
        } else if count >= 4 && arguments.word(0, is: "automove") {
            let noreply = arguments.noreply
            if arguments.word(1, is: "ratio") {
                guard count >= 5, let ratio = arguments.decimal(2) else { return adminReply("ERROR", noreply) }
                state.admin.slabAutomoveRatio.store(ratio.bitPattern, ordering: .relaxed)
                return adminReply("OK", noreply)
            }
            guard let level = arguments.unsigned(1) else { return adminReply("CLIENT_ERROR bad command line format", noreply) }
            guard level <= 2 else { return adminReply("ERROR", noreply) }
            state.admin.slabAutomove.store(level, ordering: .relaxed)
            adminReply("OK", noreply)
        } else {
            adminReply("ERROR")
        }
    }

    /// `shutdown [graceful]` under `-A`: the connection closes and the server stops as on
    /// SIGINT (dogpiled's stop always drains queued replies first, so both modes are graceful).
    private func shutdown(_ arguments: AdminArguments) {
        guard state.configuration.shutdownEnabled else { return adminReply("ERROR: shutdown not enabled") }
        guard arguments.tokenCount == 2 || (arguments.tokenCount == 3 && arguments.word(0, is: "graceful")) else {
            return adminReply("CLIENT_ERROR invalid shutdown mode")
        }
        state.logger.notice("shutting down", metadata: ["reason": "shutdown command"])
        beginClosing()
        raise(SIGINT)
    }
}
