/// Finds the line of a setting in TOML text, so errors can name it. TOMLKit reports where a
/// syntax error is but not where a well-formed value came from; this scan follows table headers
/// (`[a.b]`) and `key =` lines, which is all dogpiled's schema uses.
struct SettingLocator: Sendable {
    private var lines: [String: Int] = [:]

    init(text: String) {
        var table = ""
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("[") {
                let header = line.dropFirst().prefix { $0 != "]" }
                table = header.split(separator: ".").map { Self.unquote($0) }.joined(separator: ".")
                lines[table] = lines[table] ?? index + 1
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = Self.unquote(line[..<equals])
            let name = table.isEmpty ? key : table + "." + key
            lines[name] = lines[name] ?? index + 1
        }
    }

    private static func unquote(_ text: Substring) -> String {
        var trimmed = text.trimmingCharacters(in: " \t")
        if trimmed.count >= 2, let first = trimmed.first, first == "\"" || first == "'", trimmed.last == first {
            trimmed = String(trimmed.dropFirst().dropLast())
        }
        return trimmed
    }

    /// The line where `name` (dotted) is set or its table starts.
    func line(of name: String) -> Int? { lines[name] }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
