/// Thrown by a value-and-creation-time function to say there is no value at all.
///
/// This is dogpile's `NeedRegenerationException`: the ``Lock`` treats the value as missing,
/// so callers wait for (or become) the single creator instead of being handed a stale value.
public struct NeedRegeneration: Error, Sendable, Equatable {
    /// Creates the error.
    public init() {}
}
