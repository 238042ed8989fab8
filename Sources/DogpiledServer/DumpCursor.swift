/// Where a `lru_crawler metadump` stopped when its reply reached the output high-water: it goes
/// on from here once the output drains, so a dump of any size holds at most one slice of lines
/// (not the whole listing) in memory.
struct DumpCursor {
    /// The classes asked for.
    var classes: CrawlerClasses = .all
    /// Index into the region list.
    var region = 0
    /// Shard of that region's store.
    var shard = 0
    /// Bucket of that shard's table.
    var bucket = 0
}
