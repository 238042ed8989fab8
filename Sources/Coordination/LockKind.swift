/// Which table a wake-up comes from: a grant is given back through the table that made it.
public enum LockKind: Sendable, Equatable {
    /// A generation lease (`lockgen`).
    case generation
    /// A named mutex (`lock`, `rlock`).
    case mutex
}
