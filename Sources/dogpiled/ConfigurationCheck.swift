import ArgumentParser
import CacheStore
import DogpiledServer

/// Range checks on the effective settings, whichever source they came from.
enum ConfigurationCheck {
    static func validate(_ configuration: ServerConfiguration) throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw ValidationError(message) }
        }
        try check((0...65535).contains(configuration.port), "port (-p) must be 0...65535")
        try check((1...1024).contains(configuration.threads), "threads (-t) must be 1...1024")
        try check(configuration.maxConnections >= 1, "max connections (-c) must be at least 1")
        try check(configuration.requestsPerEvent >= 1, "requests per event (-R) must be at least 1")
        try check(configuration.memoryLimitMegabytes >= 1, "memory (-m) must be at least 1 megabyte")
        try check(configuration.itemSizeLimit >= 1024, "item size limit (-I) cannot be less than 1024 bytes")
        try check(configuration.itemSizeLimit <= 1024 * 1024 * 1024, "item size limit (-I) cannot be more than 1 GiB")
        try check(configuration.itemSizeLimit <= configuration.memoryLimitBytes / 2,
                  "item size limit (-I) cannot be more than half of the memory limit (\(configuration.memoryLimitBytes / 2) bytes)")
        try check(configuration.maxLocks >= 1, "max locks must be at least 1")
        try check((0...600_000).contains(configuration.lockWaitMilliseconds), "lock wait must be 0...600000 ms")
        try check(!configuration.listenAddresses.isEmpty || configuration.unixSocketPath != nil, "nothing to listen on")
        // Region budgets must leave room for the default region.
        do {
            _ = try RegionSet(settings: configuration.regions, totalMemory: configuration.memoryLimitBytes,
                              base: StoreConfiguration(), clock: ServerClock())
        } catch {
            throw ValidationError("regions: \(error)")
        }
    }
}
