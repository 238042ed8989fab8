/// Why the fencing-token state cannot be used; the daemon refuses to start with this message.
public struct TokenStateError: Error, CustomStringConvertible {
    /// What went wrong, with the path and the system's reason.
    public let description: String
}
