/// One reading of a ``Lock``'s value-and-creation-time function, classified for
/// ``GenerationDecision``.
enum ValueObservation<Value> {
    /// A value within its expiration time.
    case fresh(Value)
    /// A value past its expiration time, servable while someone regenerates it.
    case stale(Value)
    /// No usable value: `NeedRegeneration` was thrown (`nil`), or a value came back with a
    /// creation time of zero or less, meaning "regenerate now" (that value is kept, because
    /// dogpile lets the lease holder hand it out while an async creator runs).
    case missing(Value?)

    /// The row of the decision table this reading falls in.
    var state: GenerationDecision.ValueState {
        switch self {
        case .fresh: .fresh
        case .stale: .stale
        case .missing: .missing
        }
    }

    /// Whatever value was read, usable or not.
    var value: Value? {
        switch self {
        case .fresh(let value), .stale(let value): value
        case .missing(let value): value
        }
    }

    /// Reads `valueAndCreatedAt` and classifies the result against `expiretime` at `now`.
    ///
    /// Mirrors dogpile: `NeedRegeneration` means missing; a creation time of zero or less
    /// (conventionally -1) means missing too; a value more than `expiretime` seconds old is
    /// stale; a `nil` expiretime never goes stale. Any other error propagates.
    static func read(
        _ valueAndCreatedAt: () throws -> (value: Value, createdAt: Double),
        expiretime: Double?,
        now: () -> Double
    ) throws -> ValueObservation {
        let found: (value: Value, createdAt: Double)
        do {
            found = try valueAndCreatedAt()
        } catch is NeedRegeneration {
            return .missing(nil)
        }
        if found.createdAt <= 0 {
            return .missing(found.value)
        }
        if let expiretime, now() - found.createdAt > expiretime {
            return .stale(found.value)
        }
        return .fresh(found.value)
    }
}
