import DogpiledServer
import Logging

/// A stderr handler whose level follows the server's ``Verbosity``.
struct FollowingLogHandler: LogHandler {
    var inner: StreamLogHandler
    let verbosity: Verbosity

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { verbosity.logLevel }
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
    /// A logger to standard error at the level `verbosity` selects, now and after changes.
    static func makeLogger(verbosity: Verbosity) -> Logger {
        LoggingSystem.bootstrap { label in
            var inner = StreamLogHandler.standardError(label: label)
            inner.logLevel = .trace
            return FollowingLogHandler(inner: inner, verbosity: verbosity)
        }
        return Logger(label: "dogpiled")
    }
}
