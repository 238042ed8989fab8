/// A setting's value once parsed and range-checked, in the setting's own unit (sizes in bytes).
public enum SettingValue: Sendable, Equatable, CustomStringConvertible {
    case integer(Int)
    /// A number with a fraction (early recompute's β).
    case decimal(Double)
    case boolean(Bool)
    /// A string; nil means unset (e.g. no pid file).
    case string(String?)
    case strings([String])

    public var description: String {
        switch self {
        case .integer(let value): String(value)
        case .decimal(let value): String(value)
        case .boolean(let value): String(value)
        case .string(let value): value.map { "\"\($0)\"" } ?? "(none)"
        case .strings(let values): values.joined(separator: ",")
        }
    }
}
