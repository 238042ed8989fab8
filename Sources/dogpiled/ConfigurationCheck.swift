import CacheStore
import DogpiledServer

/// The checks every configuration passes before use, whichever source it came from: start-up,
/// `--check-config` and a reload run exactly these, so a file that passes `--check-config` starts.
enum ConfigurationCheck {
    static func validate(_ configuration: ServerConfiguration) throws {
        try ConfigurationValidation.validate(configuration)
        // The region set's own rules (with sums that cannot overflow: checked above).
        do {
            _ = try RegionSet(settings: configuration.regions, totalMemory: configuration.memoryLimitBytes,
                              base: StoreConfiguration(), clock: ServerClock())
        } catch {
            throw SettingError(setting: "regions", message: "\(error)")
        }
    }
}
