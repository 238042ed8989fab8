import ArgumentParser
import DogpiledConfiguration
import DogpiledServer
import EventLoop
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The process around the server: logging, descriptor limit, binding, privileges, pid file,
/// systemd notifications and SIGHUP reloads.
///
/// A failure here is a run-time failure, not a usage error: one line on standard error and a
/// sysexits status (EX_OSERR 71; memcached's 64 and 67 for `-u` problems), never usage text.
struct Daemon {
    let configuration: ServerConfiguration
    let configPath: String?
    let user: String?
    /// memcached's process flags (`-d`, `-k`, `-r`) and the notices of flags without effect.
    let process: ProcessOptions
    /// Resolves the settings again (for SIGHUP), with the same precedence as at start-up.
    let resolve: () throws -> ServerConfiguration

    func run() throws {
        do {
            try Privileges.check(user: user)
        } catch {
            printError(error.description)
            throw ExitCode(error.status)
        }
        var reportReady: () -> Void = {}
        if process.daemonize {
            do {
                reportReady = try ProcessControl.daemonize(keepDirectory: process.maximizeCoreFile, keepOutput: configuration.verbosity > 0)
            } catch {
                printError(error.description)
                throw ExitCode(71)
            }
        }
        let verbosity = Verbosity(configuration.verbosity)
        let logger = LoggerSetup.makeLogger(verbosity: verbosity)
        for notice in process.notices { logger.notice("\(notice)") }
        if process.maximizeCoreFile {
            do {
                try ProcessControl.maximizeCoreFileLimit()
            } catch {
                printError(error.description)
                throw ExitCode(71)
            }
        }
        do {
            if let raised = try DescriptorLimit.ensure(configuration) {
                logger.notice("raised the open-files limit to fit -c", metadata: [
                    "from": "\(raised.from)", "to": "\(raised.to)", "max_connections": "\(configuration.maxConnections)",
                ])
            }
        } catch {
            printError(error.description)
            throw ExitCode(71)
        }
        let server: Server
        do {
            server = try Server(configuration: configuration, logger: logger, verbosity: verbosity)
            try server.bind()
        } catch let error as AuthFileError {
            // memcached's message and status (EXIT_FAILURE) for an auth file it cannot use.
            printError(error.message(path: configuration.authFile ?? ""))
            throw ExitCode(1)
        } catch let error as TLSError {
            // memcached exits EX_USAGE when its certificates do not load (saying why only with
            // -v); dogpiled always says why.
            printError(error.description)
            throw ExitCode(64)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(71)
        }
        if let user {
            do {
                try Privileges.drop(to: user)
            } catch {
                printError(error.description)
                throw ExitCode(error.status)
            }
            if getuid() != 0 { logger.info("running as \(user)") }
        }
        if process.lockMemory {
            do {
                try ProcessControl.lockMemory(memoryLimitBytes: configuration.memoryLimitBytes)
            } catch {
                printError(error.description)
                throw ExitCode(71)
            }
        }
        if let path = configuration.pidFile {
            do {
                try PidFile.write(to: path)
            } catch {
                logger.critical("cannot start: \(error)")
                throw ExitCode(71)
            }
        }
        logger.notice("starting", metadata: EffectiveSettings.metadata(configuration, ports: server.boundPorts))
        let notifier = SystemdNotifier()
        server.onReady = {
            logger.notice("listening", metadata: [
                "on": "\(configuration.unixSocketPath ?? configuration.listenAddresses.joined(separator: ","))",
                "ports": "\(server.boundPorts.map(String.init).joined(separator: ","))",
            ])
            notifier.send("READY=1\nSTATUS=accepting connections\nMAINPID=\(getpid())")
            reportReady()
        }
        server.onStopping = { notifier.send("STOPPING=1") }
        server.onReload = {
            notifier.send("RELOADING=1")
            Reloader(configPath: configPath, resolve: resolve, running: configuration, state: server.state, logger: logger).reload()
            notifier.send("READY=1")
        }
        server.run()
        if let path = configuration.pidFile { PidFile.remove(path) }
    }
}
