import DogpiledServer

extension ConfigurationFile {
    /// Writes every setting the file sets into `configuration` (file over defaults).
    public func apply(to configuration: inout ServerConfiguration) throws {
        func fail(_ name: String, _ message: String) -> ConfigurationError {
            ConfigurationError(path: path, line: locator.line(of: name), setting: name, message: message)
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard case .integer(let value)? = values[name] else { return nil }
            guard range.contains(value) else { throw fail(name, "must be in \(range.lowerBound)...\(range.upperBound)") }
            return value
        }
        func string(_ name: String) -> String? {
            if case .string(let value)? = values[name] { return value }
            return nil
        }
        func size(_ name: String) throws -> Int? {
            switch values[name] {
            case .integer(let value)?:
                guard value > 0 else { throw fail(name, "must be a positive size") }
                return value
            case .string(let text)?:
                guard let bytes = SizeParser.bytes(text) else { throw fail(name, "'\(text)' is not a size such as 64m") }
                return bytes
            default: return nil
            }
        }
        if let value = try integer("port", 0...65535) { configuration.port = value }
        if case .strings(let addresses)? = values["listen"] { configuration.listenAddresses = addresses }
        if let value = string("unix_socket") { configuration.unixSocketPath = value.isEmpty ? nil : value }
        if let value = string("unix_mask") {
            guard let mask = UInt32(value, radix: 8) else { throw fail("unix_mask", "must be octal, e.g. \"700\"") }
            configuration.unixSocketMode = mask
        }
        if let value = try integer("threads", 1...1024) { configuration.threads = value }
        if let value = try integer("max_connections", 1...1_000_000) { configuration.maxConnections = value }
        if let value = try size("memory") {
            // A bare number means megabytes, as with -m; a suffixed size is converted.
            if case .integer = values["memory"] {
                configuration.memoryLimitMegabytes = value
            } else {
                guard value >= 1024 * 1024 else { throw fail("memory", "must be at least 1m") }
                configuration.memoryLimitMegabytes = value / (1024 * 1024)
            }
        }
        if let value = try size("item_size_max") { configuration.itemSizeLimit = value }
        if case .boolean(let value)? = values["evictions"] { configuration.evictionEnabled = value }
        if let value = try integer("requests_per_event", 1...1_000_000) { configuration.requestsPerEvent = value }
        if let value = try integer("backlog", 1...65535) { configuration.backlog = Int32(value) }
        if let value = try integer("verbosity", 0...2) { configuration.verbosity = value }
        if let value = try integer("max_locks", 1...100_000_000) { configuration.maxLocks = value }
        if let value = try integer("lock_wait_ms", 0...600_000) { configuration.lockWaitMilliseconds = value }
        if let value = string("pidfile") { configuration.pidFile = value }
        if !regions.isEmpty { configuration.regions = regions }
    }
}
