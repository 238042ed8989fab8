/// Sizes as memcached's flags take them: a number of bytes with an optional b, k, m, g or t
/// suffix (binary multiples; `b` is plain bytes).
public enum SizeParser {
    private static let units: [(Character, Int)] = [("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40)]

    /// Bytes for `text`, or nil if it is not a positive size or does not fit in an `Int`.
    public static func bytes(_ text: String) -> Int? {
        let lower = text.lowercased()
        var digits = Substring(lower)
        var multiplier = 1
        if let last = lower.last, let unit = units.first(where: { $0.0 == last }) {
            digits = digits.dropLast()
            multiplier = unit.1
        } else if lower.last == "b" {
            digits = digits.dropLast()
        }
        guard let value = Int(digits), value > 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    /// Whether `text` ends in a unit letter (a bare number is ambiguous in the config file).
    public static func hasUnit(_ text: String) -> Bool {
        guard let last = text.lowercased().last else { return false }
        return last == "b" || units.contains { $0.0 == last }
    }

    /// `bytes` in the largest unit that divides it exactly, e.g. `64m`, `1536k`, `100`.
    public static func describe(_ bytes: Int) -> String {
        for (suffix, multiplier) in units.reversed() where bytes >= multiplier && bytes % multiplier == 0 {
            return "\(bytes / multiplier)\(suffix)"
        }
        return String(bytes)
    }
}
