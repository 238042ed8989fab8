import CacheStore
import MemcacheProtocol

/// `lru_crawler metadump` and `stats cachedump`: item listings in memcached 1.6.18's formats
/// (crawler.c `crawler_metadump_eval`, items.c `item_cachedump`).
extension Connection {
    /// Items listed per slice before the output is checked against the high-water.
    static let dumpSlice = 512

    /// Lists live items of `classes` from `cursor` on: `key=<uri-encoded> exp= la= cas= fetch=
    /// cls= size=` lines ended by `\n`, then `END\r\n`. Stops at the output high-water, leaving
    /// ``dumpCursor`` set so the connection resumes the dump once its output drains.
    func metadump(_ classes: CrawlerClasses, from start: DumpCursor) {
        var cursor = start
        cursor.classes = classes
        let regions = state.regions.all
        let clock = state.clock
        while cursor.region < regions.count {
            let store = regions[cursor.region].store
            if cursor.shard >= store.shardCount {
                cursor.region += 1
                cursor.shard = 0
                cursor.bucket = 0
                continue
            }
            if output.count > Self.outputHighWater {
                dumpCursor = cursor
                return
            }
            let (entries, next) = store.dumpEntries(
                shard: cursor.shard, fromBucket: cursor.bucket, maximum: Self.dumpSlice) { classes.includes($0.classID) }
            var text = ""
            for entry in entries { DumpFormat.metadumpLine(entry, clock: clock, into: &text) }
            output.append(string: text)
            if let next {
                cursor.bucket = next
            } else {
                cursor.shard += 1
                cursor.bucket = 0
            }
        }
        dumpCursor = nil
        output.append("END\r\n")
    }

    /// Answers `stats cachedump <class> <limit>` (`arguments` start at `cachedump`): the live
    /// items of memcached class `<class>`, most recent first, at most `<limit>` (0: all) and
    /// less than 2 MB.
    func cachedump(_ arguments: AdminArguments) {
        guard state.configuration.dumpEnabled else { return output.append("CLIENT_ERROR stats cachedump not allowed\r\n") }
        guard arguments.tokenCount >= 5 else { return output.append("CLIENT_ERROR bad command line\r\n") }
        guard let id = arguments.unsigned(1), let limit = arguments.unsigned(2) else {
            return output.append("CLIENT_ERROR bad command line format\r\n")
        }
        guard id < 64 else { return output.append("CLIENT_ERROR Illegal slab id\r\n") }
        var text: [UInt8] = []
        var shown = 0
        let clock = state.clock
        for region in state.regions.all {
            region.store.forEachRecentEntry { entry in
                guard entry.classID == Int(id), !entry.snapshot.binaryKey else { return true }
                let line = DumpFormat.cachedumpLine(entry, clock: clock)
                // memcached's reply stops short of 2 MB.
                guard text.count + line.count + 6 <= DumpFormat.cachedumpLimit else { return false }
                text += line
                shown += 1
                return limit == 0 || shown < limit
            }
            if limit != 0 && shown >= limit { break }
        }
        text += Array("END\r\n".utf8)
        text.withUnsafeBytes { output.append($0) }
    }

    /// `stats detail on|off|dump`.
    func statsDetail(_ arguments: AdminArguments) {
        let prefixes = state.prefixStatistics
        if arguments.word(1, is: "on") {
            prefixes.isEnabled = true
            output.append("OK\r\n")
        } else if arguments.word(1, is: "off") {
            prefixes.isEnabled = false
            output.append("OK\r\n")
        } else if arguments.word(1, is: "dump") {
            prefixes.dump().withUnsafeBytes { output.append($0) }
        } else {
            output.append("CLIENT_ERROR usage: stats detail on|off|dump\r\n")
        }
    }
}
