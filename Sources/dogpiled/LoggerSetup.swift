import Logging
import Synchronization

/// The log level, changeable at run time (SIGHUP reload of `verbosity`).
final class LogLevelControl: Sendable {
    private let verbosity: Atomic<Int>

    init(verbosity: Int) { self.verbosity = Atomic(verbosity) }

    /// 0: info and above; 1 (`-v`): debug; 2 (`-vv`): trace.
    var level: Logger.Level {
        switch verbosity.load(ordering: .relaxed) {
        case 0: .info
        case 1: .debug
        default: .trace
        }
    }

    func set(verbosity value: Int) { verbosity.store(value, ordering: .relaxed) }
}

/// A stderr handler whose level follows a ``LogLevelControl``.
struct FollowingLogHandler: LogHandler {
    var inner: StreamLogHandler
    let control: LogLevelControl

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { control.level }
        set { }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}

/// Logging set-up for the daemon.
enum LoggerSetup {
    /// A logger to standard error at the level `-v` / `-vv` (or a reload) selects.
    static func makeLogger(level: LogLevelControl) -> Logger {
        LoggingSystem.bootstrap { label in
            var inner = StreamLogHandler.standardError(label: label)
            inner.logLevel = .trace
            return FollowingLogHandler(inner: inner, control: level)
        }
        return Logger(label: "dogpiled")
    }
}
