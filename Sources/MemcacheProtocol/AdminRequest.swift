/// An administrative command: rare, so the executor reads its tokens as text instead of the
/// parser decoding every form. The parser has already applied memcached's token-count check for
/// the verb (where `process_command_ascii` has one).
public struct AdminRequest: Sendable {
    /// The administrative verbs.
    public enum Verb: Sendable {
        /// `cache_memlimit <megabytes> [noreply]`.
        case cacheMemlimit
        /// `lru_crawler crawl|metadump|tocrawl|sleep|enable|disable ...`.
        case lruCrawler
        /// `lru tune|mode|temp_ttl ...`.
        case lru
        /// `slabs reassign|automove ...`.
        case slabs
        /// `watch [kinds...]`.
        case watch
        /// `shutdown [graceful]`.
        case shutdown
    }

    /// Which command.
    public var verb: Verb
    /// The tokens after the command name, up to the end of the line.
    public var arguments: ByteSpan
    /// memcached's `ntokens` for the line (real tokens + 1, at most 24).
    public var tokenCount: Int

    /// Creates a request.
    public init(verb: Verb, arguments: ByteSpan, tokenCount: Int) {
        self.verb = verb
        self.arguments = arguments
        self.tokenCount = tokenCount
    }
}
