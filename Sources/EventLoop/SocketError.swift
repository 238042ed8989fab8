#if canImport(Glibc)
import Glibc
#endif

/// A failed socket call, with the call's name and `errno`.
public struct SocketError: Error, CustomStringConvertible {
    /// What was being done, e.g. `bind 127.0.0.1:11211`.
    public let operation: String
    /// The `errno` value.
    public let code: Int32

    /// Captures the current `errno`.
    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        // Code 0: the operation already says why (a name lookup's own message); no "Success".
        code == 0 ? operation : "\(operation): \(String(cString: strerror(code)))"
    }
}
