/// A value that a setting refuses, from any source: a flag, the config file or a reload.
public struct SettingError: Error, CustomStringConvertible, Equatable {
    /// Where the value came from as the user wrote it: `-c`, `--region sessions`, or the config
    /// key (`max_connections`, `regions.sessions.memory`).
    public var setting: String
    /// What is wrong, including what would be accepted.
    public var message: String

    /// Creates an error.
    public init(setting: String, message: String) {
        self.setting = setting
        self.message = message
    }

    public var description: String { "\(setting): \(message)" }
}
