// No Foundation and no NIO here: the reply types and ReplyDecoder.swift build on their own (Fuzz/).

/// One key's answer in an `mlockgen` reply (``Reply/lockgenBlocks(_:)``), in request order.
public enum LockgenBlock: Sendable, Equatable {
    /// `VALUE ...` + data + `HIT`: a fresh value.
    case hit(CacheItem)
    /// `VALUE ...` + data + `STALE`: a stale copy; someone else regenerates.
    case stale(CacheItem)
    /// `GEN <token>`, with the value it came with (`VALUE ... GEN`: a stale copy, or a fresh value
    /// near expiry granted early) or nil (the key had no value): this caller regenerates.
    case generate(token: UInt64, item: CacheItem?)
    /// `MISS`: no value, and someone else regenerates; wait with a plain `lockgen`.
    case miss
    /// `SERVER_ERROR <message>` for this key alone (e.g. `too many locks`).
    case serverError(String)
}
