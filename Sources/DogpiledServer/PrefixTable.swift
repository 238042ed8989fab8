/// The counters of `stats detail`, per key prefix, in a chained table that is searched with the
/// key's bytes in place: recording allocates only when a prefix is seen for the first time.
/// Not thread-safe; ``PrefixStatistics`` guards it.
struct PrefixTable {
    /// memcached's `MAX_PREFIX_COUNT`: prefixes beyond it are not recorded.
    static let maximumPrefixes = 1 << 16
    private static let bucketCount = 4096

    struct Entry {
        var prefix: [UInt8]
        var gets: UInt64 = 0
        var hits: UInt64 = 0
        var sets: UInt64 = 0
        var deletes: UInt64 = 0
    }

    private(set) var entries: [Entry] = []
    private var buckets = [[Int32]](repeating: [], count: bucketCount)

    /// The entry for `prefix`, created if there is room; nil when the table is full.
    mutating func index(of prefix: UnsafeRawBufferPointer) -> Int? {
        var hash: UInt32 = 2_166_136_261
        for byte in prefix { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let bucket = Int(hash % UInt32(Self.bucketCount))
        for index in buckets[bucket] where entries[Int(index)].prefix.elementsEqual(prefix) {
            return Int(index)
        }
        guard entries.count < Self.maximumPrefixes else { return nil }
        entries.append(Entry(prefix: Array(prefix)))
        buckets[bucket].append(Int32(entries.count - 1))
        return entries.count - 1
    }

    /// Updates the counters of entry `index`.
    mutating func update(_ index: Int, _ change: (inout Entry) -> Void) {
        change(&entries[index])
    }
}
