/// The dogpile decision table: given what a reader found and whether someone is already
/// regenerating, what the reader does next.
///
/// This one pure function decides for both the in-process ``Lock`` and the daemon's `lockgen`
/// verb, so the two cannot drift apart:
///
/// | value   | lease held | decision                                  |
/// |---------|------------|-------------------------------------------|
/// | fresh   | any        | ``useValue``                              |
/// | expiring| no         | ``regenerate`` (early; the value is shown)|
/// | expiring| yes        | ``useValue`` (one early recompute at most)|
/// | stale   | no         | ``regenerate`` (the stale value is shown) |
/// | stale   | yes        | ``useStaleValue`` (never waits)           |
/// | missing | no         | ``regenerate``                            |
/// | missing | yes        | ``waitForValue``                          |
public enum GenerationDecision: Sendable, Equatable {
    /// The value is fresh: return it.
    case useValue
    /// The caller becomes the one creator; any stale value is returned alongside the lease.
    case regenerate
    /// Someone else is regenerating; return the stale value at once.
    case useStaleValue
    /// Someone else is regenerating and there is nothing to return: wait for their value.
    case waitForValue

    /// What a reader found under a key.
    public enum ValueState: Sendable, Equatable {
        /// A value within its expiration time.
        case fresh
        /// A fresh value that a reader drew for early recompute (``EarlyRecompute``): it is
        /// served as fresh, and the reader regenerates it unless someone already does.
        case expiring
        /// A value past its expiration time (or invalidated) that may still be served.
        case stale
        /// No value at all.
        case missing
    }

    /// The decision for `value` when a regeneration lease is or is not already held by another.
    public static func decide(value: ValueState, leaseHeld: Bool) -> GenerationDecision {
        switch (value, leaseHeld) {
        case (.fresh, _): .useValue
        case (.expiring, false): .regenerate
        case (.expiring, true): .useValue
        case (.stale, false): .regenerate
        case (.stale, true): .useStaleValue
        case (.missing, false): .regenerate
        case (.missing, true): .waitForValue
        }
    }
}
