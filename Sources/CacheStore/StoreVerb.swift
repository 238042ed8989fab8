/// The storage operations a ``Store`` knows, mirroring memcached's storage commands.
public enum StoreVerb: UInt8, Sendable {
    /// Store unconditionally.
    case set
    /// Store only if the key is absent.
    case add
    /// Store only if the key is present.
    case replace
    /// Add bytes after the current value.
    case append
    /// Add bytes before the current value.
    case prepend
    /// Store only if the CAS unique still matches.
    case cas
}
