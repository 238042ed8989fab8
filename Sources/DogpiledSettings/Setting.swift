/// One row of the settings table: how a setting is named on the command line and in the config
/// file, what it accepts, whether a reload can change it, and where it lives in
/// ``ServerConfiguration``. The flags, the config file, `--check-config` and the reload planner
/// all go through these rows, so they cannot disagree about a name, a range or a unit.
public struct Setting: Sendable {
    /// Whether SIGHUP can change a running server's value.
    public enum Reload: String, Sendable {
        /// A reload applies it.
        case live
        /// Only a restart applies it; a reload that changes it says so in the log.
        case restart
    }

    /// The config file key (top level), e.g. `max_connections`.
    public let key: String
    /// Command-line spellings, e.g. `["-c", "--conn-limit"]`; empty if file-only.
    public let flags: [String]
    /// The memcached `-o` name, e.g. `idle_timeout`, if the setting is also one.
    public let extendedOption: String?
    /// Type, range and unit.
    public let kind: SettingKind
    /// Live or restart-only.
    public let reload: Reload
    /// One line for help and docs.
    public let summary: String
    private let read: @Sendable (ServerConfiguration) -> SettingValue
    private let write: @Sendable (inout ServerConfiguration, SettingValue) -> Void

    init(
        _ key: String, flags: [String] = [], option: String? = nil, _ kind: SettingKind, _ reload: Reload,
        _ summary: String,
        read: @escaping @Sendable (ServerConfiguration) -> SettingValue,
        write: @escaping @Sendable (inout ServerConfiguration, SettingValue) -> Void
    ) {
        self.key = key
        self.flags = flags
        self.extendedOption = option
        self.kind = kind
        self.reload = reload
        self.summary = summary
        self.read = read
        self.write = write
    }

    /// The value `configuration` holds.
    public func value(in configuration: ServerConfiguration) -> SettingValue { read(configuration) }

    /// `value` as the config file would write it (modes in octal, sizes with a unit).
    public func describe(_ value: SettingValue) -> String {
        switch (kind, value) {
        case (.octalMode, .integer(let mode)): String(mode, radix: 8)
        case (.size, .integer(let bytes)): SizeParser.describe(bytes)
        default: value.description
        }
    }

    /// Checks `text` given on the command line as `spelling` (e.g. `-c`) and stores it.
    public func apply(flag text: String, as spelling: String, to configuration: inout ServerConfiguration) throws(SettingError) {
        switch kind.parse(flag: text) {
        case .success(let value): write(&configuration, value)
        case .failure(let rejection): throw SettingError(setting: spelling, message: rejection.message)
        }
    }

    /// Checks a value from the config file and stores it. The error names the key; the caller
    /// adds the file and line.
    public func apply(file value: FileValue, to configuration: inout ServerConfiguration) throws(SettingError) {
        switch kind.parse(file: value) {
        case .success(let checked): write(&configuration, checked)
        case .failure(let rejection): throw SettingError(setting: key, message: rejection.message)
        }
    }
}
