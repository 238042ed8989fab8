/// What a reload would change, from the settings table: the restart-only settings whose value
/// differs are reported, never silently dropped.
public struct ReloadPlan: Sendable, Equatable {
    /// One restart-only setting that differs: its key and both values.
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        /// The config key.
        public var key: String
        /// The running value, as the config file would write it.
        public var running: String
        /// The value the file (and flags) now give.
        public var requested: String

        public var description: String { "\(key) \(running) -> \(requested)" }
    }

    /// Restart-only settings that differ between the running and the fresh configuration.
    public var needsRestart: [Change]

    /// Compares `running` and `fresh` row by row.
    public init(running: ServerConfiguration, fresh: ServerConfiguration) {
        needsRestart = Settings.all.filter { $0.reload == .restart }.compactMap { setting in
            let old = setting.value(in: running), new = setting.value(in: fresh)
            return old == new ? nil : Change(key: setting.key, running: setting.describe(old), requested: setting.describe(new))
        }
    }
}
