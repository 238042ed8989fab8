import CacheStore
@testable import DogpiledConfiguration
import DogpiledSettings
import Foundation
import Testing

/// Parses `text` and applies it to `base` (defaults unless given).
private func applied(_ text: String, to base: ServerConfiguration = ServerConfiguration()) throws -> ServerConfiguration {
    var configuration = base
    try ConfigurationFile(text: text, path: "test.toml").apply(to: &configuration)
    return configuration
}

/// The error parsing or applying `text` throws, or nil.
private func failure(_ text: String) -> ConfigurationError? {
    do {
        _ = try applied(text)
        return nil
    } catch let error as ConfigurationError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// Checks that `text` fails naming `setting` at `line`, in the fields and in the description.
private func expectFailure(_ text: String, setting: String?, line: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error = failure(text) else {
        Issue.record("no error for \(text.debugDescription)", sourceLocation: sourceLocation)
        return
    }
    #expect(error.path == "test.toml", sourceLocation: sourceLocation)
    #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
    #expect(error.description.hasPrefix("test.toml:\(line): "), "\(error)", sourceLocation: sourceLocation)
    if let setting {
        #expect(error.setting == setting, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(setting), "\(error)", sourceLocation: sourceLocation)
    }
}

/// Config/dogpiled.toml, found relative to this file.
private let shippedConfigPath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Config/dogpiled.toml").path

@Suite("Configuration file")
struct ConfigurationFileTests {
    @Test("every top-level setting parses and lands in ServerConfiguration")
    func everySetting() throws {
        let configuration = try applied("""
            port = 12345
            listen = ["127.0.0.1", "::1"]
            unix_socket = "/tmp/dogpiled-test.sock"
            unix_mask = "755"
            threads = 7
            max_connections = 99
            memory = "128m"
            item_size_max = "2m"
            evictions = false
            requests_per_event = 5
            backlog = 77
            verbosity = 2
            max_locks = 500
            lock_wait_ms = 250
            pidfile = "/tmp/dogpiled-test.pid"
            """)
        #expect(configuration.port == 12345)
        #expect(configuration.listenAddresses == ["127.0.0.1", "::1"])
        #expect(configuration.unixSocketPath == "/tmp/dogpiled-test.sock")
        #expect(configuration.unixSocketMode == 0o755)
        #expect(configuration.threads == 7)
        #expect(configuration.maxConnections == 99)
        #expect(configuration.memoryLimitMegabytes == 128)
        #expect(configuration.itemSizeLimit == 2 * 1024 * 1024)
        #expect(configuration.evictionEnabled == false)
        #expect(configuration.requestsPerEvent == 5)
        #expect(configuration.backlog == 77)
        #expect(configuration.verbosity == 2)
        #expect(configuration.maxLocks == 500)
        #expect(configuration.lockWaitMilliseconds == 250)
        #expect(configuration.pidFile == "/tmp/dogpiled-test.pid")
        #expect(configuration.regions.isEmpty)
    }

    @Test("listen takes a single string; an empty unix_socket means none")
    func stringForms() throws {
        let base = { () -> ServerConfiguration in var c = ServerConfiguration(); c.unixSocketPath = "/x"; return c }()
        let configuration = try applied("listen = \"0.0.0.0\"\nunix_socket = \"\"", to: base)
        #expect(configuration.listenAddresses == ["0.0.0.0"])
        #expect(configuration.unixSocketPath == nil)
    }

    @Test("memory: a size with a unit is converted", arguments: [
        ("\"64m\"", 64), ("\"64M\"", 64), ("\"1g\"", 1024), ("\"2048k\"", 2), ("\"32m\"", 32),
    ])
    func memorySizes(value: String, megabytes: Int) throws {
        #expect(try applied("memory = \(value)").memoryLimitMegabytes == megabytes)
    }

    @Test("a size without a unit is an error naming the units, at the top level and in a region", arguments: [
        ("memory = 64", "memory", 1), ("memory = \"64\"", "memory", 1), ("item_size_max = 2048", "item_size_max", 1),
        ("[regions.r]\nmemory = 16", "regions.r.memory", 2), ("[regions.r]\nmemory = \"16\"", "regions.r.memory", 2),
    ])
    func bareSizes(text: String, setting: String, line: Int) {
        expectFailure(text + "\n", setting: setting, line: line)
        let message = failure(text)?.message ?? ""
        #expect(message.contains("k, m, g"), "\(message)")
    }

    @Test("item_size_max: sizes in bytes", arguments: [
        ("\"1m\"", 1024 * 1024), ("\"512k\"", 512 * 1024), ("\"512K\"", 512 * 1024), ("\"2048b\"", 2048), ("\"4096B\"", 4096),
    ])
    func itemSizes(value: String, bytes: Int) throws {
        #expect(try applied("item_size_max = \(value)").itemSizeLimit == bytes)
    }

    @Test("[regions.NAME] tables become RegionSettings")
    func regions() throws {
        let file = try ConfigurationFile(text: """
            memory = "128m"

            [regions.sessions]
            memory = "16m"
            exptime = 3600
            stale_ttl = 30
            lock_wait_ms = 250

            [regions.pages]
            memory = "8388608b"

            [regions.default]
            stale_ttl = 10
            """, path: "test.toml")
        var configuration = ServerConfiguration()
        try file.apply(to: &configuration)
        let byName = Dictionary(uniqueKeysWithValues: configuration.regions.map { ($0.name, $0) })
        #expect(byName.count == 3)
        #expect(byName["sessions"] == RegionSettings(name: "sessions", memoryBytes: 16 << 20, defaultExptime: 3600, staleTTL: 30, lockWaitMilliseconds: 250))
        #expect(byName["pages"] == RegionSettings(name: "pages", memoryBytes: 8 << 20))
        #expect(byName["default"] == RegionSettings(name: "default", staleTTL: 10))
        #expect(configuration.memoryLimitMegabytes == 128)
    }

    @Test("regions are kept in file order, as documented")
    func regionOrder() throws {
        let file = try ConfigurationFile(text: "[regions.zeta]\nmemory = \"1m\"\n[regions.alpha]\nmemory = \"1m\"\n", path: "test.toml")
        #expect(file.regions.map(\.name) == ["zeta", "alpha"])
    }

    @Test("apply writes only what the file sets (defaults < file)")
    func onlyWhatIsSet() throws {
        var base = ServerConfiguration()
        base.threads = 9
        base.lockWaitMilliseconds = 42
        base.regions = [RegionSettings(name: "kept", memoryBytes: 1 << 20)]
        let configuration = try applied("port = 1234\n", to: base)
        #expect(configuration.port == 1234)
        #expect(configuration.threads == 9)
        #expect(configuration.lockWaitMilliseconds == 42)
        #expect(configuration.regions == base.regions)
        let empty = try applied("# nothing\n\n", to: base)
        #expect(empty.port == base.port && empty.threads == 9)
    }

    @Test("an unknown top-level key names the key and its line")
    func unknownKey() {
        expectFailure("port = 1\nbogus = 2\n", setting: "bogus", line: 2)
        expectFailure("# comment\n\nthreads = 2\n\n  max_conns = 5\n", setting: "max_conns", line: 5)
        #expect(failure("bogus = 2")?.message.contains("unknown setting") == true)
    }

    @Test("an unknown region key names regions.NAME.key and its line")
    func unknownRegionKey() {
        expectFailure("[regions.sessions]\nmemory = \"16m\"\nstale = 5\n", setting: "regions.sessions.stale", line: 3)
        expectFailure("port = 1\n\n[regions.default]\nlock_wait_ms = 10\nttl = 5\n", setting: "regions.default.ttl", line: 5)
    }

    @Test("wrong types name the setting and its line", arguments: [
        ("threads = \"4\"", "threads"),
        ("port = 3.5", "port"),
        ("port = true", "port"),
        ("evictions = \"yes\"", "evictions"),
        ("evictions = 1", "evictions"),
        ("listen = [1, 2]", "listen"),
        ("listen = 5", "listen"),
        ("memory = true", "memory"),
        ("memory = \"lots\"", "memory"),
        ("item_size_max = \"1x\"", "item_size_max"),
        ("item_size_max = 1.5", "item_size_max"),
        ("unix_mask = \"9z\"", "unix_mask"),
        ("unix_mask = 700", "unix_mask"),
        ("unix_socket = 5", "unix_socket"),
        ("pidfile = 5", "pidfile"),
        ("verbosity = \"1\"", "verbosity"),
        ("lock_wait_ms = \"5000\"", "lock_wait_ms"),
        ("regions = 5", "regions"),
    ])
    func wrongTypes(line: String, setting: String) {
        expectFailure("# leading comment\nmax_locks = 10\n\(line)\n", setting: setting, line: 3)
    }

    @Test("wrong types in a region name regions.NAME.key and its line", arguments: [
        ("memory = \"lots\"", "memory"),
        ("memory = true", "memory"),
        ("exptime = \"60\"", "exptime"),
        ("stale_ttl = \"5\"", "stale_ttl"),
        ("lock_wait_ms = 1.5", "lock_wait_ms"),
    ])
    func wrongRegionTypes(line: String, key: String) {
        expectFailure("threads = 2\n[regions.r]\n\(line)\n", setting: "regions.r.\(key)", line: 3)
    }

    @Test("out-of-range values name the setting and its line", arguments: [
        ("threads = 0", "threads"),
        ("threads = 1025", "threads"),
        ("port = 70000", "port"),
        ("port = -1", "port"),
        ("max_connections = 0", "max_connections"),
        ("requests_per_event = 0", "requests_per_event"),
        ("backlog = 0", "backlog"),
        ("verbosity = 3", "verbosity"),
        ("max_locks = 0", "max_locks"),
        ("lock_wait_ms = 600001", "lock_wait_ms"),
        ("memory = \"0m\"", "memory"),
        ("item_size_max = \"-1k\"", "item_size_max"),
    ])
    func outOfRange(line: String, setting: String) {
        expectFailure("# range checks\n\n\(line)\n", setting: setting, line: 3)
    }

    @Test("out-of-range region values name regions.NAME.key and its line", arguments: [
        ("exptime = -1", "exptime"),
        ("stale_ttl = 2592001", "stale_ttl"),
        ("stale_ttl = -1", "stale_ttl"),
        ("lock_wait_ms = 600001", "lock_wait_ms"),
        ("lock_wait_ms = -1", "lock_wait_ms"),
    ])
    func outOfRangeRegion(line: String, key: String) {
        expectFailure("[regions.r]\nmemory = \"1m\"\n\(line)\n", setting: "regions.r.\(key)", line: 3)
    }

    @Test("non-positive sizes given as numbers are errors with a line")
    func nonPositiveNumericSizes() {
        expectFailure("threads = 2\nmemory = 0\n", setting: "memory", line: 2)
        expectFailure("threads = 2\nmemory = -5\n", setting: "memory", line: 2)
        expectFailure("threads = 2\nitem_size_max = 0\n", setting: "item_size_max", line: 2)
        expectFailure("[regions.r]\nmemory = 0\n", setting: "regions.r.memory", line: 2)
    }

    @Test("a TOML syntax error reports its line", arguments: [
        ("port = 1\nthreads = \n", 2),
        ("# a\n# b\n# c\nport = = 1\n", 4),
        ("port = 1\n[regions.r\nmemory = 1\n", 2),
        ("port = 1\nport = 2\n", 2),
        ("listen = [\"a\",\n\"b\"\nthreads = 1\n", 3),
    ])
    func syntaxError(text: String, line: Int) {
        guard let error = failure(text) else {
            Issue.record("no error for \(text.debugDescription)")
            return
        }
        #expect(error.line == line, "\(error)")
        #expect(error.description.hasPrefix("test.toml:\(line): "), "\(error)")
        #expect(error.message.contains("syntax error"), "\(error)")
    }

    @Test("load reports an unreadable file with its path")
    func unreadable() {
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.load(path: "/nonexistent/dogpiled.toml") }
        do {
            _ = try ConfigurationFile.load(path: "/nonexistent/dogpiled.toml")
        } catch let error as ConfigurationError {
            #expect(error.path == "/nonexistent/dogpiled.toml")
            #expect(error.line == nil)
            #expect(error.description.hasPrefix("/nonexistent/dogpiled.toml: "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("ConfigurationError's description is path:line: setting: message")
    func errorDescription() {
        #expect(ConfigurationError(path: "f", line: 3, setting: "threads", message: "bad").description == "f:3: threads: bad")
        #expect(ConfigurationError(path: "f", message: "bad").description == "f: bad")
    }

    @Test("the shipped Config/dogpiled.toml parses and documents the defaults (idle_timeout: 300 s)")
    func shippedFile() throws {
        let file = try ConfigurationFile.load(path: shippedConfigPath)
        let defaults = ServerConfiguration()
        var configuration = defaults
        try file.apply(to: &configuration)
        #expect(configuration.port == defaults.port)
        #expect(configuration.listenAddresses == defaults.listenAddresses)
        #expect(configuration.unixSocketPath == defaults.unixSocketPath)
        #expect(configuration.unixSocketMode == defaults.unixSocketMode)
        #expect(configuration.threads == defaults.threads)
        #expect(configuration.maxConnections == defaults.maxConnections)
        #expect(configuration.memoryLimitMegabytes == defaults.memoryLimitMegabytes)
        #expect(configuration.itemSizeLimit == defaults.itemSizeLimit)
        #expect(configuration.evictionEnabled == defaults.evictionEnabled)
        #expect(configuration.requestsPerEvent == defaults.requestsPerEvent)
        #expect(configuration.backlog == defaults.backlog)
        #expect(configuration.verbosity == defaults.verbosity)
        #expect(configuration.maxLocks == defaults.maxLocks)
        #expect(configuration.lockWaitMilliseconds == defaults.lockWaitMilliseconds)
        #expect(configuration.pidFile == defaults.pidFile)
        #expect(configuration.shardCount == defaults.shardCount)
        // The one deliberate difference: the shipped file closes idle connections (issue 8).
        #expect(configuration.idleTimeoutSeconds == 300)
        var expected = defaults
        expected.idleTimeoutSeconds = 300
        expected.regions = configuration.regions
        #expect(configuration == expected)
        // Regions it declares carry only the default region settings.
        for region in configuration.regions {
            #expect(region == RegionSettings(name: region.name), "region \(region.name)")
        }
        // Every setting of the schema is documented (set, or shown commented out).
        let text = try String(contentsOfFile: shippedConfigPath, encoding: .utf8)
        for key in Settings.all.map(\.key) {
            #expect(text.contains("\n\(key) =") || text.contains("\n# \(key) ="), "\(key) is not documented")
        }
    }
}
