import CacheStore
import DogpiledServer
import Foundation
import TOMLKit

/// dogpiled's config file (TOML), checked against a schema of our own: every setting has a known
/// name and type, an unknown one is an error that names its line, never silently ignored.
///
/// Precedence is defaults < this file < command-line flags: ``apply(to:)`` writes only the
/// settings the file sets, and the caller applies flags afterwards.
public struct ConfigurationFile: Sendable {
    /// The top-level settings the file set, by name.
    var values: [String: Setting] = [:]
    /// Regions declared in `[regions.NAME]` tables, in file order.
    public private(set) var regions: [RegionSettings] = []
    /// Where the file was read from.
    public let path: String
    /// Lines of the settings, for error messages.
    let locator: SettingLocator

    /// A parsed value.
    enum Setting: Sendable {
        case integer(Int)
        case string(String)
        case boolean(Bool)
        case strings([String])
    }

    /// The top-level settings and their types.
    static let schema: [String: Kind] = [
        "port": .integer, "listen": .strings, "unix_socket": .string, "unix_mask": .string,
        "threads": .integer, "max_connections": .integer, "memory": .size, "item_size_max": .size,
        "evictions": .boolean, "requests_per_event": .integer, "backlog": .integer,
        "verbosity": .integer, "max_locks": .integer, "lock_wait_ms": .integer, "pidfile": .string,
    ]

    enum Kind { case integer, string, boolean, strings, size }

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

    /// Parses `text` as if read from `path`.
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
        for (key, value) in table {
            if key == "regions" {
                guard let regionTables = value.table else { throw fail(key, "must be a table of [regions.NAME] tables") }
                for (name, regionValue) in regionTables {
                    guard let regionTable = regionValue.table else {
                        throw fail("regions.\(name)", "must be a table")
                    }
                    regions.append(try Self.region(name, regionTable, fail))
                }
                // TOMLKit iterates tables in key order; keep the file's order.
                regions.sort { (locator.line(of: "regions.\($0.name)") ?? 0) < (locator.line(of: "regions.\($1.name)") ?? 0) }
                continue
            }
            guard let kind = Self.schema[key] else {
                throw fail(key, "unknown setting (known: \(Self.schema.keys.sorted().joined(separator: ", ")), [regions.NAME])")
            }
            values[key] = try Self.convert(value, kind: kind, name: key, fail)
        }
    }

    private static func convert(
        _ value: TOMLValueConvertible, kind: Kind, name: String, _ fail: (String, String) -> ConfigurationError
    ) throws -> Setting {
        switch kind {
        case .integer:
            guard let number = value.int else { throw fail(name, "must be a whole number") }
            return .integer(number)
        case .string:
            guard let text = value.string else { throw fail(name, "must be a string") }
            return .string(text)
        case .boolean:
            guard let flag = value.bool else { throw fail(name, "must be true or false") }
            return .boolean(flag)
        case .strings:
            if let text = value.string { return .strings([text]) }
            guard let array = value.array else { throw fail(name, "must be a string or an array of strings") }
            var strings: [String] = []
            for element in array {
                guard let text = element.string else { throw fail(name, "must be an array of strings") }
                strings.append(text)
            }
            return .strings(strings)
        case .size:
            if let number = value.int { return .integer(number) }
            guard let text = value.string else { throw fail(name, "must be a size such as \"64m\" or a number") }
            return .string(text)
        }
    }

    private static func region(
        _ name: String, _ table: TOMLTable, _ fail: (String, String) -> ConfigurationError
    ) throws -> RegionSettings {
        var settings = RegionSettings(name: name)
        for (key, value) in table {
            let setting = "regions.\(name).\(key)"
            switch key {
            case "memory":
                if let number = value.int {
                    guard number > 0 else { throw fail(setting, "must be a positive size") }
                    settings.memoryBytes = number
                } else if let text = value.string, let bytes = SizeParser.bytes(text) {
                    settings.memoryBytes = bytes
                } else {
                    throw fail(setting, "must be a size such as \"64m\"")
                }
            case "exptime":
                guard let number = value.int, (0...Int(Int32.max)).contains(number) else { throw fail(setting, "must be seconds >= 0") }
                settings.defaultExptime = Int32(number)
            case "stale_ttl":
                guard let number = value.int, (0...86_400 * 30).contains(number) else { throw fail(setting, "must be seconds in 0...2592000") }
                settings.staleTTL = UInt32(number)
            case "lock_wait_ms":
                guard let number = value.int, (0...600_000).contains(number) else { throw fail(setting, "must be milliseconds in 0...600000") }
                settings.lockWaitMilliseconds = number
            case "beta":
                guard let beta = value.double ?? value.int.map(Double.init), beta.isFinite, (0...100).contains(beta) else {
                    throw fail(setting, "must be a number in 0...100 (0 turns early recompute off)")
                }
                settings.earlyRecomputeBeta = beta
            default:
                throw fail(setting, "unknown region setting (known: memory, exptime, stale_ttl, lock_wait_ms, beta)")
            }
        }
        return settings
    }
}
