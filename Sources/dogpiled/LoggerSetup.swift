import Logging

/// Logging set-up for the daemon.
enum LoggerSetup {
    /// A logger to standard error at the level `-v` / `-vv` selects.
    static func makeLogger(verbosity: Int) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbosity >= 2 ? .trace : verbosity == 1 ? .debug : .info
            return handler
        }
        return Logger(label: "dogpiled")
    }
}
