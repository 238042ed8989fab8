import CacheStore

/// The settings of a region (`[regions.NAME]` in the file, `--region NAME:key=value,...` on the
/// command line), with the same types, ranges and units from both. All are live: a reload
/// changes them in place.
public enum RegionSettingsTable {
    /// The region keys, with what each accepts.
    public static let kinds: [(key: String, kind: SettingKind)] = [
        ("memory", .size(1024...Settings.maximumMemory, flagUnit: 1)),
        ("exptime", .integer(0...Int(Int32.max), unit: "seconds")),
        ("stale_ttl", .integer(0...2_592_000, unit: "seconds")),
        ("lock_wait_ms", .integer(0...600_000, unit: "milliseconds")),
        ("beta", .decimal(0...100)),
    ]

    private static var known: String { kinds.map(\.key).joined(separator: ", ") }

    /// Checks a value from the config file and stores it in `settings`.
    public static func apply(key: String, file value: FileValue, to settings: inout RegionSettings) throws(SettingError) {
        let setting = "regions.\(settings.name).\(key)"
        guard let kind = kinds.first(where: { $0.key == key })?.kind else {
            throw SettingError(setting: setting, message: "unknown region setting (known: \(known))")
        }
        switch kind.parse(file: value) {
        case .success(let checked): store(key, checked, in: &settings)
        case .failure(let rejection): throw SettingError(setting: setting, message: rejection.message)
        }
    }

    /// Parses `--region NAME:memory=64m,exptime=3600,stale_ttl=60,lock_wait_ms=5000,beta=1`. A size
    /// needs its unit here as in the file: a bare number is refused, never read as bytes.
    public static func parse(argument text: String) throws(SettingError) -> RegionSettings {
        guard let colon = text.firstIndex(of: ":") else {
            throw SettingError(setting: "--region \(text)", message: "expected NAME:memory=SIZE[,exptime=S][,stale_ttl=S][,lock_wait_ms=MS][,beta=B]")
        }
        var settings = RegionSettings(name: String(text[..<colon]))
        let context = "--region \(settings.name)"
        for field in text[text.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: true) {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw SettingError(setting: context, message: "'\(field)' is not key=value") }
            guard let kind = kinds.first(where: { $0.key == parts[0] })?.kind else {
                throw SettingError(setting: context, message: "unknown region setting '\(parts[0])' (known: \(known))")
            }
            // Text from the command line is read as the file would read it: a size is a string
            // (unit required), anything else a whole number.
            let value: FileValue = switch kind {
            case .size: .string(parts[1])
            case .decimal: Double(parts[1]).map(FileValue.decimal) ?? .string(parts[1])
            default: Int(parts[1]).map(FileValue.integer) ?? .string(parts[1])
            }
            switch kind.parse(file: value) {
            case .success(let checked): store(parts[0], checked, in: &settings)
            case .failure(let rejection): throw SettingError(setting: "\(context) \(parts[0])", message: rejection.message)
            }
        }
        return settings
    }

    private static func store(_ key: String, _ value: SettingValue, in settings: inout RegionSettings) {
        if key == "beta", case .decimal(let beta) = value { settings.earlyRecomputeBeta = beta }
        guard case .integer(let number) = value else { return }
        switch key {
        case "memory": settings.memoryBytes = number
        case "exptime": settings.defaultExptime = Int32(number)
        case "stale_ttl": settings.staleTTL = UInt32(number)
        case "lock_wait_ms": settings.lockWaitMilliseconds = number
        default: break
        }
    }
}
