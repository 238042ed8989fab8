/// A value as the config file's TOML gave it, before the setting checks it.
public enum FileValue: Sendable, Equatable {
    case integer(Int)
    /// A TOML float.
    case decimal(Double)
    case string(String)
    case boolean(Bool)
    case strings([String])
    /// Anything else TOML can hold (a date, a table): always refused.
    case other(String)
}
