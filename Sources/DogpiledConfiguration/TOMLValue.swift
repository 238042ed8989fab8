/// One value of a TOML document, as the config reader needs it. Dates and times are kept as
/// their text: no dogpiled setting takes one, so they only have to be named in the refusal.
enum TOMLValue {
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case string(String)
    case array([TOMLValue])
    case table(TOMLTable)
    /// An offset or local date-time, date or time, as written.
    case dateTime(String)

    /// TOML's name for the value's type, for error messages ("integer", "array", ...).
    var typeName: String {
        switch self {
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .string: "string"
        case .array: "array"
        case .table: "table"
        case .dateTime: "date-time"
        }
    }
}
