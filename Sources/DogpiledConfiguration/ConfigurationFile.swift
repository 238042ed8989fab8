@_exported import DogpiledSettings
import CacheStore
import Foundation
import TOMLKit

/// dogpiled's config file (TOML), checked against the settings table: every setting has a known
/// name, type, range and unit, and an unknown or out-of-range one is an error that names its
/// line, never silently ignored. Sizes carry a unit (`memory = "64m"`); a bare number is refused.
///
/// Precedence is defaults < this file < command-line flags: ``apply(to:)`` writes only the
/// settings the file sets, and the caller applies flags afterwards.
public struct ConfigurationFile: Sendable {
    /// The top-level settings the file set, by key.
    var values: [String: FileValue] = [:]
    /// Regions declared in `[regions.NAME]` tables, in file order.
    public private(set) var regions: [RegionSettings] = []
    /// Where the file was read from.
    public let path: String
    /// Lines of the settings, for error messages.
    let locator: SettingLocator

    /// Reads and checks `path`.
    public static func load(path: String) throws -> ConfigurationFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(path: path, message: "cannot read: \(error.localizedDescription)")
        }
        return try ConfigurationFile(text: text, path: path)
    }

    /// Parses `text` as if read from `path`, checking every value against the table.
    public init(text: String, path: String) throws {
        self.path = path
        let locator = SettingLocator(text: text)
        self.locator = locator
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(path: path, line: Int(error.source.begin.line), message: "syntax error: \(error.description)")
        }
        func fail(_ name: String, _ message: String) -> ConfigurationError {
            ConfigurationError(path: path, line: locator.line(of: name), setting: name, message: message)
        }
        var scratch = ServerConfiguration()
        for (key, value) in table {
            if key == "regions" {
                guard let regionTables = value.table else { throw fail(key, "must be a table of [regions.NAME] tables") }
                for (name, regionValue) in regionTables {
                    guard let regionTable = regionValue.table else { throw fail("regions.\(name)", "must be a table") }
                    var settings = RegionSettings(name: name)
                    for (regionKey, setting) in regionTable {
                        do {
                            try RegionSettingsTable.apply(key: regionKey, file: Self.fileValue(setting), to: &settings)
                        } catch {
                            throw fail(error.setting, error.message)
                        }
                    }
                    regions.append(settings)
                }
                // TOMLKit iterates tables in key order; keep the file's order.
                regions.sort { (locator.line(of: "regions.\($0.name)") ?? 0) < (locator.line(of: "regions.\($1.name)") ?? 0) }
                continue
            }
            guard let setting = Settings.named(key) else {
                throw fail(key, "unknown setting (known: \(Settings.all.map(\.key).sorted().joined(separator: ", ")), [regions.NAME])")
            }
            let fileValue = Self.fileValue(value)
            do {
                try setting.apply(file: fileValue, to: &scratch)
            } catch {
                throw fail(key, error.message)
            }
            values[key] = fileValue
        }
    }

    /// TOML's value as the table's input type.
    private static func fileValue(_ value: TOMLValueConvertible) -> FileValue {
        if let number = value.int { return .integer(number) }
        if let number = value.double { return .decimal(number) }
        if let flag = value.bool { return .boolean(flag) }
        if let text = value.string { return .string(text) }
        if let array = value.array {
            var strings: [String] = []
            for element in array {
                guard let text = element.string else { return .other("an array of \(element.type)") }
                strings.append(text)
            }
            return .strings(strings)
        }
        return .other("\(value.type)")
    }
}
