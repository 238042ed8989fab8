@_exported import DogpiledSettings
import CacheStore

/// dogpiled's config file (TOML), checked against the settings table: every setting has a known
/// name, type, range and unit, and an unknown or out-of-range one is an error that names its
/// line, never silently ignored. Sizes carry a unit (`memory = "64m"`); a bare number is refused.
///
/// Precedence is defaults < this file < command-line flags: ``apply(to:)`` writes only the
/// settings the file sets, and the caller applies flags afterwards.
///
/// Read by ``TOMLParser`` (no Foundation): whatever the daemon links stays resident for its life.
public struct ConfigurationFile: Sendable {
    /// The top-level settings the file set, by key.
    var values: [String: FileValue] = [:]
    /// Regions declared in `[regions.NAME]` tables, in file order.
    public private(set) var regions: [RegionSettings] = []
    /// Where the file was read from.
    public let path: String
    /// The line of each setting and region by dotted name (`threads`, `regions.r.memory`), for errors.
    let lines: [String: Int]

    /// Reads and checks `path`.
    public static func load(path: String) throws -> ConfigurationFile {
        let text: String
        do {
            text = try TextFile.contents(ofPath: path)
        } catch {
            throw ConfigurationError(path: path, message: "cannot read: \(error.reason)")
        }
        return try ConfigurationFile(text: text, path: path)
    }

    /// Parses `text` as if read from `path`, checking every value against the table.
    public init(text: String, path: String) throws {
        self.path = path
        let table: TOMLTable
        do {
            table = try TOMLParser.parse(text)
        } catch {
            throw ConfigurationError(path: path, line: error.line, message: "syntax error: \(error.message)")
        }
        var lines: [String: Int] = [:]
        func fail(_ name: String, _ message: String) -> ConfigurationError {
            ConfigurationError(path: path, line: lines[name], setting: name, message: message)
        }
        var scratch = ServerConfiguration()
        for (key, entry) in table.orderedEntries {
            lines[key] = entry.line
            if key == "regions" {
                guard case .table(let regionTables) = entry.value else { throw fail(key, "must be a table of [regions.NAME] tables") }
                for (name, regionEntry) in regionTables.orderedEntries {
                    lines["regions.\(name)"] = regionEntry.line
                    guard case .table(let regionTable) = regionEntry.value else { throw fail("regions.\(name)", "must be a table") }
                    var settings = RegionSettings(name: name)
                    for (regionKey, setting) in regionTable.orderedEntries {
                        lines["regions.\(name).\(regionKey)"] = setting.line
                        do {
                            try RegionSettingsTable.apply(key: regionKey, file: Self.fileValue(setting.value), to: &settings)
                        } catch {
                            throw fail(error.setting, error.message)
                        }
                    }
                    regions.append(settings)
                }
                continue
            }
            guard let setting = Settings.named(key) else {
                throw fail(key, "unknown setting (known: \(Settings.all.map(\.key).sorted().joined(separator: ", ")), [regions.NAME])")
            }
            let fileValue = Self.fileValue(entry.value)
            do {
                try setting.apply(file: fileValue, to: &scratch)
            } catch {
                throw fail(key, error.message)
            }
            values[key] = fileValue
        }
        self.lines = lines
    }

    /// TOML's value as the table's input type.
    private static func fileValue(_ value: TOMLValue) -> FileValue {
        switch value {
        case .integer(let number): return .integer(number)
        case .float(let number): return .decimal(number)
        case .boolean(let flag): return .boolean(flag)
        case .string(let text): return .string(text)
        case .array(let elements):
            var strings: [String] = []
            for element in elements {
                guard case .string(let text) = element else { return .other("an array of \(element.typeName)") }
                strings.append(text)
            }
            return .strings(strings)
        case .table, .dateTime:
            return .other(value.typeName)
        }
    }
}
