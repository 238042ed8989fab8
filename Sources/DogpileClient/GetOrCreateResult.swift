/// A value from ``Region/getOrCreateResult(_:as:creator:)``, and where it came from.
public struct GetOrCreateResult<Value: Sendable>: Sendable {
    /// Where the value came from.
    public enum Source: Sendable, Equatable {
        /// `HIT`: a fresh value from the cache.
        case hit
        /// `STALE`: a stale copy, served while another caller regenerates.
        case stale
        /// `VALUE ... GEN` with ``Region/earlyRecompute`` on: this caller got the lease together
        /// with a value it can show (a stale copy, or a fresh value near expiry that the daemon
        /// chose to renew early), and that value is returned at once, while the creator and
        /// `setgen` run in a background task (dogpile.cache's `async_creation_runner`).
        case servedWhileRegenerating
        /// `GEN`: this caller ran the creator and stored the value (`setgen` answered `STORED`).
        case created
        /// This caller ran the creator under the lease but did not store the value: the lease had
        /// ended (`NOT_OWNER`, e.g. the creator outlived `lease_ms`, and someone else's value stands)
        /// or the daemon refused it (e.g. too large). The value is still returned.
        case createdNotStored(reason: String)
        /// The key's daemon is dead: the creator ran without a lease and nothing was cached.
        case createdUncached(daemon: String)
    }

    /// The value.
    public var value: Value
    /// Where it came from.
    public var source: Source
}
