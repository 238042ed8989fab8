// No Foundation and no NIO here: the reply types and ReplyDecoder.swift build on their own (Fuzz/).

/// The line that ends a run of `VALUE` blocks.
public enum ReplyValuesEnd: Sendable, Equatable {
    /// `END`: the end of a get-style reply.
    case end
    /// `HIT`: lockgen found a fresh value.
    case hit
    /// `STALE`: lockgen found a stale copy while someone else regenerates.
    case stale
    /// `GEN <token>`: lockgen granted this caller the generation lease.
    case generate(token: UInt64)
}
