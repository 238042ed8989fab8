/// A problem in a config file, naming the setting and, where known, its line.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The file.
    public var path: String
    /// 1-based line number, when known.
    public var line: Int?
    /// The setting's dotted name (e.g. `regions.sessions.memory`), when the problem is one setting.
    public var setting: String?
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(path: String, line: Int? = nil, setting: String? = nil, message: String) {
        self.path = path
        self.line = line
        self.setting = setting
        self.message = message
    }

    public var description: String {
        var text = path
        if let line { text += ":\(line)" }
        text += ": "
        if let setting { text += "\(setting): " }
        return text + message
    }
}
