import Logging
import Synchronization

/// The verbosity in force: set by `-v`/`-vv`, the `verbosity` command and a reload, and read by
/// the log handler, so all three change what is logged.
public final class Verbosity: Sendable {
    private let current: Atomic<Int>

    /// Starts at `level` (0, 1 or 2).
    public init(_ level: Int) { current = Atomic(min(max(level, 0), 2)) }

    /// 0: info and above; 1: debug; 2: trace.
    public var value: Int { current.load(ordering: .relaxed) }

    /// Changes the verbosity (clamped to 0...2, as memcached clamps its own).
    public func set(_ level: Int) { current.store(min(max(level, 0), 2), ordering: .relaxed) }

    /// The log level this verbosity lets through.
    public var logLevel: Logger.Level {
        switch value {
        case 0: .info
        case 1: .debug
        default: .trace
        }
    }
}
