/// What `setgen`'s store learns about the generation lease it completes.
public struct CompletedLease: Sendable, Equatable {
    /// Milliseconds from the grant to this `setgen`: the regeneration time, Δ of early recompute.
    public var heldMilliseconds: Int64
    /// Whether it was an early-recompute grant (on a fresh value, ahead of its expiry).
    public var early: Bool

    /// A completion.
    public init(heldMilliseconds: Int64, early: Bool) {
        self.heldMilliseconds = heldMilliseconds
        self.early = early
    }
}
