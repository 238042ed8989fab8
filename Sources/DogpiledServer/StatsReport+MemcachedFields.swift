/// The `stats` and `stats settings` fields memcached 1.6.18 reports for mechanisms dogpiled
/// does not have (slab pages and their mover, the segmented LRU maintainer, log watchers,
/// response objects, SASL, TLS, extstore, NAPI ids). Tools such as `memcached-tool` and
/// `memcstat` read these names; dogpiled reports each at the value memcached gives when the
/// mechanism is idle or off, and never changes it, because nothing in dogpiled can make it
/// change. A field dogpiled already reports (by a helper adding the mechanism) is not repeated.
extension StatsReport {
    /// General `stats` fields of memcached's idle mechanisms.
    static let memcachedIdleStatistics: [(String, String)] = [
        ("accepting_conns", "1"), ("listen_disabled_num", "0"), ("time_in_listen_disabled_us", "0"),
        ("reserved_fds", "0"), ("auth_cmds", "0"), ("auth_errors", "0"), ("get_flushed", "0"),
        ("hash_power_level", "0"), ("hash_bytes", "0"), ("hash_is_expanding", "0"),
        ("slab_reassign_rescues", "0"), ("slab_reassign_chunk_rescues", "0"),
        ("slab_reassign_evictions_nomem", "0"), ("slab_reassign_inline_reclaim", "0"),
        ("slab_reassign_busy_items", "0"), ("slab_reassign_busy_deletes", "0"),
        ("slab_reassign_running", "0"), ("slabs_moved", "0"), ("lru_crawler_running", "0"),
        ("malloc_fails", "0"), ("log_worker_dropped", "0"), ("log_worker_written", "0"),
        ("log_watcher_skipped", "0"), ("log_watcher_sent", "0"), ("log_watchers", "0"),
        ("unexpected_napi_ids", "0"), ("round_robin_fallback", "0"), ("response_obj_oom", "0"),
        ("response_obj_count", "0"), ("response_obj_bytes", "0"), ("read_buf_count", "0"),
        ("read_buf_bytes", "0"), ("read_buf_bytes_free", "0"), ("slab_global_page_pool", "0"),
        ("evicted_active", "0"), ("crawler_reclaimed", "0"), ("crawler_items_checked", "0"),
        ("lrutail_reflocked", "0"), ("moves_to_cold", "0"), ("moves_to_warm", "0"),
        ("moves_within_lru", "0"), ("direct_reclaims", "0"), ("lru_bumps_dropped", "0"),
        ("lru_maintainer_juggles", "0"),
    ]

    /// `stats settings` fields of memcached's mechanisms dogpiled does not have, at memcached's
    /// defaults (the slab allocator's geometry, which `me` and the dumps' `cls=` follow, too).
    static let memcachedIdleSettings: [(String, String)] = [
        ("growth_factor", "1.25"), ("chunk_size", "48"), ("auth_enabled_sasl", "no"),
        ("auth_enabled_ascii", "no"), ("hashpower_init", "0"), ("slab_automove_window", "30"),
        ("slab_chunk_max", "524288"), ("tail_repair_time", "0"), ("watcher_logbuf_size", "262144"),
        ("worker_logbuf_size", "65536"), ("read_buf_mem_limit", "0"), ("track_sizes", "no"),
        ("inline_ascii_response", "no"), ("ext_item_size", "512"), ("ext_item_age", "4294967295"),
        ("ext_low_ttl", "0"), ("ext_recache_rate", "2000"), ("ext_wbuf_size", "4194304"),
        ("ext_compact_under", "0"), ("ext_drop_under", "0"), ("ext_max_sleep", "1000000"),
        ("ext_max_frag", "0.80"), ("slab_automove_freeratio", "0.010"), ("ext_drop_unread", "no"),
        ("ssl_enabled", "no"), ("ssl_chain_cert", "(null)"), ("ssl_key", "(null)"),
        ("ssl_verify_mode", "0"), ("ssl_keyformat", "1"), ("ssl_ciphers", "NULL"),
        ("ssl_ca_cert", "NULL"), ("ssl_wbuf_size", "16384"), ("ssl_session_cache", "no"),
        ("ssl_kernel_tls", "no"), ("ssl_min_version", "tlsv1.2"), ("num_napi_ids", "(null)"),
        ("memory_file", "(null)"),
    ]

    /// `lines` followed by those of `extras` whose names it does not have yet.
    static func adding(_ extras: [(String, String)], to lines: [(String, String)]) -> [(String, String)] {
        let present = Set(lines.map(\.0))
        return lines + extras.filter { !present.contains($0.0) }
    }
}
