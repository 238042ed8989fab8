import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An error from the test harness.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The real `dogpiled` binary as a child process, on an ephemeral loopback port or a Unix socket
/// (mirrors Tests/DogpiledIntegrationTests/Support/TestServer.swift, trimmed to what the client
/// tests need). As root it passes `-u root`, which the daemon requires there.
final class DaemonProcess: @unchecked Sendable {
    let pid: pid_t
    /// The TCP port, or 0 for a Unix socket daemon.
    let port: Int
    /// The Unix socket path, if any.
    let socketPath: String?
    private let logPath: String
    private var status: Int32?
    /// Where readiness is checked (a plain `notls:` port under `-Z`), and what is sent first
    /// (the authentication `set` under `-Y`).
    private var readinessPort: Int
    private var readinessPreamble = ""

    /// `host:port` (or the socket path), as the client's server list writes it.
    var address: String { socketPath ?? "127.0.0.1:\(port)" }

    /// The binary: `DOGPILED_BIN`, else `dogpiled` next to the test bundle, else `.build/debug/dogpiled`.
    static let binaryPath: String = {
        if let path = ProcessInfo.processInfo.environment["DOGPILED_BIN"], !path.isEmpty { return path }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("dogpiled").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/dogpiled").path
    }()

    private init(pid: pid_t, port: Int, socketPath: String?, logPath: String) {
        self.pid = pid
        self.port = port
        self.socketPath = socketPath
        self.logPath = logPath
        self.readinessPort = port
    }

    deinit { stop() }

    /// Starts a daemon on a free loopback port with `arguments` and waits until it answers
    /// (sleeping, not blocking, between polls: other tests share the cooperative threads).
    static func start(_ arguments: [String] = []) async throws -> DaemonProcess {
        var lastError: Error = HarnessError("no attempt")
        for _ in 0..<5 {
            let port = try freePort()
            let daemon = try launch(arguments + ["-l", "127.0.0.1", "-p", String(port)], port: port, socketPath: nil)
            do {
                try await daemon.waitUntilReady()
                return daemon
            } catch {
                lastError = error
                daemon.stop()
            }
        }
        throw lastError
    }

    /// Starts a daemon with TLS (`-Z` and the `-o ssl_*` options in `arguments`) on a free
    /// port, plus a plain `notls:` listener that only the readiness check uses.
    static func startTLS(_ arguments: [String]) async throws -> DaemonProcess {
        let port = try freePort(), plainPort = try freePort()
        let daemon = try launch(arguments + ["-Z", "-l", "127.0.0.1,notls:127.0.0.1:\(plainPort)", "-p", String(port)],
                                port: port, socketPath: nil)
        daemon.readinessPort = plainPort
        try await daemon.waitUntilReady()
        return daemon
    }

    /// Starts a daemon with `-Y authfile` on a free port; readiness is checked after
    /// authenticating as `username`/`password`.
    static func startAuthenticated(authFile: String, username: String, password: String,
                                   _ arguments: [String] = []) async throws -> DaemonProcess {
        let port = try freePort()
        let daemon = try launch(arguments + ["-Y", authFile, "-l", "127.0.0.1", "-p", String(port)], port: port, socketPath: nil)
        let credentials = "\(username) \(password)"
        daemon.readinessPreamble = "set auth 0 0 \(credentials.utf8.count)\r\n\(credentials)\r\n"
        try await daemon.waitUntilReady()
        return daemon
    }

    /// Starts a daemon on the Unix socket `path`.
    static func startUnix(path: String, _ arguments: [String] = []) async throws -> DaemonProcess {
        let daemon = try launch(arguments + ["-s", path], port: 0, socketPath: path)
        try await daemon.waitUntilReady()
        return daemon
    }

    private static func launch(_ arguments: [String], port: Int, socketPath: String?) throws -> DaemonProcess {
        var arguments = arguments
        if geteuid() == 0 && !arguments.contains("-u") { arguments += ["-u", "root"] }
        let logPath = NSTemporaryDirectory() + "dogpiled-client-\(getpid())-\(UUID().uuidString).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The test runner blocks SIGTERM; the daemon must see it.
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([binaryPath] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child = pid_t()
        let result = posix_spawn(&child, binaryPath, &actions, &attributes, argv, environ)
        guard result == 0 else { throw HarnessError("posix_spawn \(binaryPath): \(String(cString: strerror(result)))") }
        return DaemonProcess(pid: child, port: port, socketPath: socketPath, logPath: logPath)
    }

    /// Whether the child is still running.
    var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
        return status == nil
    }

    /// Polls until `stats` on a fresh connection reports this process's pid (30 s: a debug
    /// daemon with TLS can take many seconds to start while the whole suite runs in parallel).
    func waitUntilReady() async throws {
        let deadline = Date().addingTimeInterval(30)
        var last = "no answer"
        while Date() < deadline {
            guard isRunning else { throw HarnessError("dogpiled exited during startup: \(logTail())") }
            do {
                let reply = try RawSocket.exchange(port: readinessPort, socketPath: socketPath,
                                                   readinessPreamble + "stats\r\n", until: "END\r\n")
                if reply.contains("STAT pid \(pid)\r\n") { return }
                last = "another process answered: \(reply.prefix(120))"
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError("dogpiled (pid \(pid), port \(readinessPort)) did not answer within 30 s (\(last)): \(logTail())")
    }

    /// SIGTERM, then SIGKILL after 3 s. Returns whether it exited with status 0.
    @discardableResult
    func stop() -> Bool {
        if isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(3)
            while isRunning && Date() < deadline { usleep(5_000) }
            if isRunning {
                kill(pid, SIGKILL)
                while isRunning { usleep(5_000) }
            }
        }
        try? FileManager.default.removeItem(atPath: logPath)
        guard let status else { return false }
        return status & 0x7F == 0 && (status >> 8) & 0xFF == 0
    }

    /// The end of the daemon's log, for failure messages.
    func logTail() -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        return String(decoding: data.suffix(2000), as: UTF8.self)
    }

    /// A TCP port that was free a moment ago.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw HarnessError("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
