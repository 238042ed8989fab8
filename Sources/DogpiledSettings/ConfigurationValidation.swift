import CacheStore

/// Checks that involve more than one setting, after each has passed its own range check. Run by
/// start-up, `--check-config` and a reload alike, so a file that `--check-config` accepts also
/// starts.
public enum ConfigurationValidation {
    /// Throws the first problem found.
    public static func validate(_ configuration: ServerConfiguration) throws(SettingError) {
        func check(_ condition: Bool, _ setting: String, _ message: @autoclosure () -> String) throws(SettingError) {
            if !condition { throw SettingError(setting: setting, message: message()) }
        }
        // The table's ranges are checked where values enter; these guard callers that build a
        // configuration by hand, so nothing below can overflow.
        for setting in Settings.all {
            guard case .integer(let range, _) = setting.kind, case .integer(let value) = setting.value(in: configuration) else { continue }
            try check(range.contains(value), setting.key, "\(value) is out of range: must be \(setting.kind.accepts)")
        }
        try check((1...(Settings.maximumMemory >> 20)).contains(configuration.memoryLimitMegabytes), "memory",
                  "must be 1 to \(Settings.maximumMemory >> 20) megabytes")
        let memory = configuration.memoryLimitBytes
        try check(configuration.itemSizeLimit >= 1024, "item_size_max", "cannot be less than 1024 bytes")
        try check(configuration.itemSizeLimit <= 1 << 30, "item_size_max", "cannot be more than 1 GiB")
        try check(configuration.itemSizeLimit <= memory / 2, "item_size_max",
                  "cannot be more than half of the memory limit (\(memory / 2) bytes)")
        try check(!configuration.listenAddresses.isEmpty || configuration.unixSocketPath != nil, "listen", "nothing to listen on")
        try check(configuration.pidFile.map { !$0.isEmpty } ?? true, "pidfile", "must be a non-empty path")
        try check(configuration.stateDirectory.map { !$0.isEmpty } ?? true, "state_dir", "must be a non-empty path")
        try validateRegions(configuration.regions, memory: memory)
    }

    /// Region budgets, summed without overflow, must leave 1 MiB of `-m` for `default`.
    private static func validateRegions(_ regions: [RegionSettings], memory: Int) throws(SettingError) {
        var carved = 0
        var names = Set<String>()
        for region in regions {
            let setting = "regions.\(region.name)"
            guard !region.name.isEmpty, !region.name.contains(":"), !region.name.contains(" ") else {
                throw SettingError(setting: setting, message: "a region name must be non-empty, without ':' or spaces")
            }
            guard names.insert(region.name).inserted else { throw SettingError(setting: setting, message: "declared twice") }
            guard region.name != "default" else { continue }
            guard let bytes = region.memoryBytes, bytes > 0 else {
                throw SettingError(setting: setting + ".memory", message: "a named region needs a memory budget, e.g. \"16m\"")
            }
            let (sum, overflow) = carved.addingReportingOverflow(bytes)
            guard !overflow, sum <= memory - (1 << 20) else {
                throw SettingError(setting: "regions", message:
                    "region budgets add up to more than the memory limit (\(memory) bytes) minus 1 MiB kept for the default region")
            }
            carved = sum
        }
    }
}
