/// The type of a setting, with its range and unit, and how text from a flag or a value from the
/// config file becomes a checked ``SettingValue``. Nothing here traps: every number is checked
/// against its range before anything multiplies it.
public enum SettingKind: Sendable {
    /// A whole number in `range`, in `unit` (e.g. "seconds"; nil for a plain count).
    case integer(ClosedRange<Int>, unit: String?)
    /// A number, fraction allowed, in `range` (a whole number is taken too).
    case decimal(ClosedRange<Double>)
    /// A size in bytes in `range`. In the config file and `--region` it must carry a unit
    /// (`"64m"`); on a flag a bare number means `flagUnit` bytes, as memcached's flags do
    /// (`-m 64` is megabytes, `-I 1048576` bytes).
    case size(ClosedRange<Int>, flagUnit: Int)
    /// On or off.
    case boolean
    /// A file system path. `emptyMeansNone`: an empty string means "not set" (as the shipped
    /// file's `unix_socket = ""`); otherwise an empty string is refused.
    case path(emptyMeansNone: Bool)
    /// Addresses: a comma-separated flag, or a string or an array of strings in the file.
    case addresses
    /// A file mode in octal, written as a string (`"700"`).
    case octalMode
    /// One ASCII character (memcached's `-D` delimiter): a flag keeps its first character, as
    /// memcached does; the file takes a string of exactly one.
    case character

    /// What the setting accepts, for messages and the README.
    public var accepts: String {
        switch self {
        case .integer(let range, let unit):
            "a whole number in \(range.lowerBound)...\(range.upperBound)" + (unit.map { " (\($0))" } ?? "")
        case .decimal(let range):
            "a number in \(range.lowerBound)...\(range.upperBound)"
        case .size(let range, _):
            "a size with a unit, b, k, m, g or t (e.g. \"64m\"), from \(SizeParser.describe(range.lowerBound)) to \(SizeParser.describe(range.upperBound))"
        case .boolean: "true or false"
        case .path(let emptyMeansNone): emptyMeansNone ? "a path (empty: none)" : "a non-empty path"
        case .addresses: "addresses, comma separated"
        case .octalMode: "an octal file mode in 0...777 (e.g. \"700\")"
        case .character: "one ASCII character (e.g. \":\")"
        }
    }

    /// Parses `text` as given on the command line.
    func parse(flag text: String) -> Result<SettingValue, Rejection> {
        switch self {
        case .integer(let range, _):
            guard let value = Int(text.trimmingSpaces), range.contains(value) else { return .failure("'\(text)' is not \(accepts)") }
            return .success(.integer(value))
        case .decimal(let range):
            guard let value = Double(text.trimmingSpaces), value.isFinite, range.contains(value) else {
                return .failure("'\(text)' is not \(accepts)")
            }
            return .success(.decimal(value))
        case .size(let range, let flagUnit):
            let trimmed = text.trimmingSpaces
            let bytes: Int?
            if let bare = Int(trimmed) {
                let (product, overflow) = bare.multipliedReportingOverflow(by: flagUnit)
                bytes = overflow || bare <= 0 ? nil : product
            } else {
                bytes = SizeParser.bytes(trimmed)
            }
            let unit = flagUnit == 1 ? "bytes" : flagUnit == 1 << 20 ? "megabytes" : "units of \(flagUnit) bytes"
            guard let bytes, range.contains(bytes) else {
                return .failure("'\(text)' is not a size from \(SizeParser.describe(range.lowerBound)) to \(SizeParser.describe(range.upperBound)) (a bare number is \(unit); or use k, m, g or t)")
            }
            return .success(.integer(bytes))
        case .boolean:
            switch text.lowercased() {
            case "1", "true", "yes", "on": return .success(.boolean(true))
            case "0", "false", "no", "off": return .success(.boolean(false))
            default: return .failure("'\(text)' is not on/off, true/false, yes/no or 1/0")
            }
        case .path, .octalMode:
            return parse(file: .string(text))
        case .character:
            guard let first = text.utf8.first, first < 0x80, first > 0x20 else { return .failure("'\(text)' is not \(accepts)") }
            return .success(.string(String(UnicodeScalar(first))))
        case .addresses:
            let addresses = text.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            guard !addresses.isEmpty else { return .failure("needs at least one address") }
            return .success(.strings(addresses))
        }
    }

    /// Checks a value read from the config file.
    func parse(file value: FileValue) -> Result<SettingValue, Rejection> {
        switch (self, value) {
        case (.integer(let range, _), .integer(let number)):
            guard range.contains(number) else { return .failure("\(number) is out of range: must be \(accepts)") }
            return .success(.integer(number))
        case (.decimal(let range), .decimal(let number)):
            guard number.isFinite, range.contains(number) else { return .failure("\(number) is out of range: must be \(accepts)") }
            return .success(.decimal(number))
        case (.decimal(let range), .integer(let number)):
            guard range.contains(Double(number)) else { return .failure("\(number) is out of range: must be \(accepts)") }
            return .success(.decimal(Double(number)))
        case (.size(let range, _), .string(let text)):
            guard SizeParser.hasUnit(text.trimmingSpaces) else {
                return .failure("\"\(text)\" has no unit: write b, k, m, g or t (e.g. \"\(text.trimmingSpaces)m\" for megabytes)")
            }
            guard let bytes = SizeParser.bytes(text.trimmingSpaces) else { return .failure("'\(text)' is not \(accepts)") }
            guard range.contains(bytes) else { return .failure("\"\(text)\" is out of range: must be \(accepts)") }
            return .success(.integer(bytes))
        case (.size, .integer(let number)):
            return .failure("a bare number (\(number)) is ambiguous: write a size with a unit, b, k, m, g or t (e.g. \"\(number)m\" for megabytes)")
        case (.boolean, .boolean(let flag)):
            return .success(.boolean(flag))
        case (.path(let emptyMeansNone), .string(let text)):
            if text.isEmpty {
                return emptyMeansNone ? .success(.string(nil)) : .failure("must be a non-empty path (leave the setting out for none)")
            }
            return .success(.string(text))
        case (.addresses, .string(let text)):
            return parse(flag: text)
        case (.addresses, .strings(let list)):
            guard !list.isEmpty, !list.contains(where: \.isEmpty) else { return .failure("needs at least one address, none empty") }
            return .success(.strings(list))
        case (.character, .string(let text)):
            guard text.utf8.count == 1 else { return .failure("'\(text)' is not \(accepts)") }
            return parse(flag: text)
        case (.octalMode, .string(let text)):
            guard let mode = Int(text, radix: 8), (0...0o777).contains(mode) else { return .failure("'\(text)' is not \(accepts)") }
            return .success(.integer(mode))
        default:
            return .failure("must be \(accepts)")
        }
    }
}
