// No Foundation and no NIO here: the reply types and ReplyDecoder.swift build on their own (Fuzz/).

/// One `STAT <name> <value>` line.
public struct ReplyStat: Sendable, Equatable {
    /// The statistic's name (e.g. `curr_items`, `user:memory_limit`).
    public var name: String
    /// Its value, as text (may contain spaces).
    public var value: String

    /// Makes a statistic line.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
