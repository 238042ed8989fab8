/// Every memcached 1.6.18 `-o` name that is not a row of ``Settings`` (`idle_timeout` is), each
/// with what dogpiled does with it. The names and the checks of their values follow memcached.c
/// `main()` (`subopts_tokens` and its `switch`) and `storage.c` (`ext_*`) at tag 1.6.18, checked
/// against Debian's memcached 1.6.18 binary; `ssl_*` names are TLS's and handled there.
///
/// Why so many have no effect: dogpiled allocates each item exactly (no slab classes, so nothing
/// to size, reassign or move), keeps one LRU per shard (no hot/warm/cold/temp segments, no
/// maintainer or crawler thread: expired items are reclaimed where they are found), and its hash
/// table is sharded and grows by itself.
public enum MemcachedExtendedOptions {
    private static let noSlabs = "dogpiled has no slab allocator: each item is allocated at its exact size"
    private static let noSegments = "dogpiled keeps one LRU per shard, without hot/warm/cold/temp segments or a maintainer thread"
    private static let noCrawler = "dogpiled has no LRU crawler thread: expired items are reclaimed when a lookup or an eviction finds them"
    private static let noHashTuning = "dogpiled's hash table is sharded and resizes itself; its size and function are not settable"
    private static let noExtstore = "extstore (items on flash/disk) is not supported: dogpiled keeps every item in memory"

    /// The table, in memcached's order.
    public static let all: [MemcachedExtendedOption] = [
        .init("maxconns_fast", .none, .noEffect("dogpiled always answers a connection over -c with 'ERROR Too many open connections' and closes it, as maxconns_fast does")),
        .init("hashpower", .required, .noEffect(noHashTuning), check: integer(12...32)),
        .init("no_hashexpand", .none, .noEffect(noHashTuning)),
        .init("slab_reassign", .none, .noEffect(noSlabs)),
        .init("slab_automove", .optional, .noEffect(noSlabs), check: integer(0...2)),
        .init("slab_automove_ratio", .required, .noEffect(noSlabs), check: decimal(above: 0, atMost: 1)),
        .init("slab_automove_window", .required, .noEffect(noSlabs), check: integer(3...Int(Int32.max))),
        .init("tail_repair_time", .required, .noEffect("items are reference counted, so none can be stuck at an LRU tail to repair"),
              check: integer(10...Int(Int32.max))),
        .init("hash_algorithm", .required, .noEffect(noHashTuning), check: oneOf(["jenkins", "murmur3", "xxh3"])),
        .init("lru_crawler", .none, .implemented, write: { _, configuration in configuration.lruCrawlerEnabled = true }),
        .init("lru_crawler_sleep", .required, .noEffect(noCrawler), check: integer(0...1_000_000)),
        .init("lru_crawler_tocrawl", .required, .noEffect(noCrawler), check: integer(0...Int(UInt32.max))),
        .init("lru_maintainer", .none, .noEffect(noSegments)),
        .init("hot_lru_pct", .required, .noEffect(noSegments), check: integer(1...79)),
        .init("warm_lru_pct", .required, .noEffect(noSegments), check: integer(1...79)),
        .init("hot_max_factor", .required, .noEffect(noSegments), check: decimal(above: 0, atMost: .greatestFiniteMagnitude)),
        .init("warm_max_factor", .required, .noEffect(noSegments), check: decimal(above: 0, atMost: .greatestFiniteMagnitude)),
        .init("temporary_ttl", .required, .noEffect(noSegments + " (short-TTL items are evicted like any other)"),
              check: integer(Int(Int32.min)...Int(Int32.max))),
        .init("watcher_logbuf_size", .required, .noEffect("dogpiled has no log watchers ('watch')"), check: integer(0...Int(UInt32.max) / 1024)),
        .init("worker_logbuf_size", .required, .noEffect("dogpiled has no log watchers ('watch')"), check: integer(0...Int(UInt32.max) / 1024)),
        .init("slab_sizes", .required, .noEffect(noSlabs), check: slabSizes),
        .init("slab_chunk_max", .required, .noEffect(noSlabs + ", so no chunk size"), check: integer(1...Int(Int32.max))),
        .init("track_sizes", .none, .noEffect("dogpiled does not keep the item size histogram of 'stats sizes'")),
        .init("no_inline_ascii_resp", .none, .noEffect("memcached 1.6.18 ignores it too")),
        .init("modern", .none, .noEffect("memcached 1.6.18's 'modern' changes nothing either")),
        .init("no_modern", .none, .noEffect("the 1.4-era defaults it restores are slab, LRU and hash tuning that dogpiled does not have")),
        .init("no_chunked_items", .none, .noEffect(noSlabs + ", never chunked")),
        .init("no_slab_reassign", .none, .noEffect(noSlabs)),
        .init("no_slab_automove", .none, .noEffect(noSlabs)),
        .init("no_maxconns_fast", .none, .noEffect("dogpiled always rejects a connection over -c at once instead of pausing accept()")),
        .init("inline_ascii_resp", .none, .noEffect("memcached 1.6.18 ignores it too")),
        .init("no_lru_crawler", .none, .implemented, write: { _, configuration in configuration.lruCrawlerEnabled = false }),
        .init("no_lru_maintainer", .none, .noEffect(noSegments)),
        .init("no_drop_privileges", .none, .noEffect("dogpiled installs no seccomp sandbox to turn off")),
        .init("drop_privileges", .none, .noEffect("dogpiled installs no seccomp sandbox; use -u and systemd's sandboxing (systemd/dogpiled.service)")),
        .init("resp_obj_mem_limit", .required, .noEffect("memcached 1.6.18 no longer uses it either (see read_buf_mem_limit)"),
              check: integer(0...Int(UInt32.max))),
        .init("read_buf_mem_limit", .required, .implemented, check: integer(0...Settings.maximumMemory >> 20),
              write: { text, configuration throws(SettingError) in
                  // Megabytes, as memcached; 0 (memcached: unlimited) keeps dogpiled's automatic bound.
                  configuration.inputBufferLimitBytes = (Int(text) ?? 0) << 20
              }),
        .init("sock_cookie_id", .required, .refused("socket marks (SO_MARK) for firewalls are not supported; mark the traffic by port or cgroup instead"),
              check: integer(0...Int(UInt32.max))),
        .init("proxy_config", .required, .refused("memcached's built-in proxy is not supported: dogpiled is a cache server only")),
        .init("proxy_uring", .none, .refused("memcached's built-in proxy is not supported: dogpiled is a cache server only")),
        .init("ext_path", .required, .refused(noExtstore)),
        .init("ext_page_size", .required, .refused(noExtstore)),
        .init("ext_wbuf_size", .required, .refused(noExtstore)),
        .init("ext_threads", .required, .refused(noExtstore)),
        .init("ext_io_depth", .required, .refused(noExtstore)),
        .init("ext_item_size", .required, .refused(noExtstore)),
        .init("ext_item_age", .required, .refused(noExtstore)),
        .init("ext_low_ttl", .required, .refused(noExtstore)),
        .init("ext_recache_rate", .required, .refused(noExtstore)),
        .init("ext_compact_under", .required, .refused(noExtstore)),
        .init("ext_drop_under", .required, .refused(noExtstore)),
        .init("ext_max_sleep", .required, .refused(noExtstore)),
        .init("ext_max_frag", .required, .refused(noExtstore)),
        .init("ext_drop_unread", .none, .refused(noExtstore)),
        .init("slab_automove_freeratio", .required, .noEffect(noSlabs), check: decimal(above: 0, atMost: 1)),
    ]

    /// The entry for `name`.
    public static func named(_ name: String) -> MemcachedExtendedOption? { all.first { $0.name == name } }

    private static func integer(_ range: ClosedRange<Int>) -> @Sendable (String) -> String? {
        { text in
            guard let value = Int(text), range.contains(value) else { return "an integer from \(range.lowerBound) to \(range.upperBound)" }
            return nil
        }
    }

    private static func decimal(above lower: Double, atMost upper: Double) -> @Sendable (String) -> String? {
        { text in
            guard let value = Double(text), value.isFinite, value > lower, value <= upper else {
                return upper == .greatestFiniteMagnitude ? "a number above \(lower)" : "a number above \(lower) and at most \(upper)"
            }
            return nil
        }
    }

    private static func oneOf(_ choices: [String]) -> @Sendable (String) -> String? {
        { text in choices.contains(text) ? nil : "one of \(choices.joined(separator: ", "))" }
    }

    /// memcached's `slab_sizes`: `-` separated sizes, each larger than the one before.
    private static let slabSizes: @Sendable (String) -> String? = { text in
        let sizes = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        var last = 0
        for size in sizes {
            guard let size, size > last else { return "increasing sizes in bytes separated by '-', e.g. 100-200-300" }
            last = size
        }
        return nil
    }
}
