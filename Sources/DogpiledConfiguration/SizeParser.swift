/// Sizes as memcached's flags take them: a number of bytes with an optional k, m or g suffix.
public enum SizeParser {
    /// Bytes for `text`, or nil if it is not a positive size.
    public static func bytes(_ text: String) -> Int? {
        let lower = text.lowercased()
        var digits = Substring(lower)
        var multiplier = 1
        if let last = lower.last, "kmg".contains(last) {
            digits = digits.dropLast()
            multiplier = last == "k" ? 1024 : last == "m" ? 1024 * 1024 : 1024 * 1024 * 1024
        }
        guard let value = Int(digits), value > 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
