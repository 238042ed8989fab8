import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An error from the integration harness.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The real `dogpiled` binary, run as a child process for one test.
///
/// TCP servers get an ephemeral loopback port (found by binding port 0 and closing it; retried
/// if someone else grabs it first, which is detected by checking `stats`' pid). ``stop()``
/// sends SIGTERM, then SIGKILL if the server does not exit within two seconds.
final class TestServer: @unchecked Sendable {
    let process: ChildProcess
    /// The TCP port, or 0 for a Unix socket server.
    let port: Int
    /// The Unix socket path, if started with `-s`.
    let socketPath: String?
    private let logURL: URL

    private init(process: ChildProcess, port: Int, socketPath: String?, logURL: URL) {
        self.process = process
        self.port = port
        self.socketPath = socketPath
        self.logURL = logURL
    }

    // MARK: - Locating the binary

    /// `DOGPILED_BIN`; else `dogpiled` next to the running test executable (the same scratch
    /// path `swift test` built); else the newest `.build*/debug/dogpiled` in the package.
    static let binaryPath: String = {
        let fileManager = FileManager.default
        if let path = ProcessInfo.processInfo.environment["DOGPILED_BIN"], !path.isEmpty {
            return path
        }
        var candidates: [String] = []
        if let executable = try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            // On Darwin the bundle is .../debug/X.xctest/Contents/MacOS/X.
            for _ in 0..<4 {
                candidates.append(directory.appendingPathComponent("dogpiled").path)
                directory = directory.deletingLastPathComponent()
            }
        }
        if let executable = Bundle.main.executablePath {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("dogpiled").path)
        }
        for path in candidates where isExecutableFile(path) { return path }
        // Fallback: the newest debug build anywhere in the package.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let scratch = ((try? fileManager.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasPrefix(".build") }
        let found = scratch.map { root.appendingPathComponent($0).appendingPathComponent("debug/dogpiled").path }
            .filter(isExecutableFile)
            .max { modificationDate($0) < modificationDate($1) }
        return found ?? root.appendingPathComponent(".build/debug/dogpiled").path
    }()

    private static func isExecutableFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    private static func modificationDate(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }

    // MARK: - Starting and stopping

    /// Starts a TCP server on a free loopback port with `arguments` (plus `-l 127.0.0.1 -p N`),
    /// and waits until it answers.
    static func start(_ arguments: [String] = [], attempts: Int = 5) throws -> TestServer {
        var lastError: Error = HarnessError("no attempt made")
        for _ in 0..<attempts {
            let port = try freePort()
            let server = try launch(arguments + ["-l", "127.0.0.1", "-p", String(port)], port: port, socketPath: nil)
            do {
                try server.waitUntilReady()
                return server
            } catch {
                lastError = error
                server.stop()
            }
        }
        throw lastError
    }

    /// Starts a server listening on the Unix socket `path` (`-s path` plus `arguments`).
    static func startUnix(path: String, _ arguments: [String] = []) throws -> TestServer {
        let server = try launch(["-s", path] + arguments, port: 0, socketPath: path)
        do {
            try server.waitUntilReady()
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// Starts the binary with exactly `arguments` (and `environment` added to the test's), without
    /// waiting; `port` is where ``connect(timeout:)`` and ``waitUntilReady()`` will look.
    /// `wrapper`: a command that runs the binary, given its path and arguments after its own
    /// (e.g. `["/bin/sh", "-c", "ulimit -n 64 && exec \"$@\"", "sh"]`).
    static func launch(_ arguments: [String], port: Int, socketPath: String?,
                       environment: [String: String] = [:], wrapper: [String] = []) throws -> TestServer {
        let logURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("dogpiled-integ-\(getpid())-\(UUID().uuidString).log")
        let command = wrapper + [binaryPath] + withUser(arguments)
        let process = try ChildProcess(command[0], Array(command.dropFirst()), stdoutPath: logURL.path, stderrPath: logURL.path,
                                       environment: environment)
        return TestServer(process: process, port: port, socketPath: socketPath, logURL: logURL)
    }

    /// Polls until a client can connect and `stats` reports this process's pid (10 s).
    func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else {
                throw HarnessError("dogpiled exited (\(process.exitDescription)) during startup: \(logTail())")
            }
            if let client = try? connect(timeout: 2) {
                defer { client.close() }
                if let stats = try? client.stats(), stats["pid"] == String(process.pid) {
                    return
                }
                // Somebody else's server owns this port.
                if process.isRunning { usleep(50_000); continue }
            }
            usleep(20_000)
        }
        throw HarnessError("dogpiled did not accept connections within 10 s: \(logTail())")
    }

    /// A new connection to this server.
    func connect(timeout: Double = 10) throws -> TestClient {
        if let socketPath { return try TestClient(unixPath: socketPath, timeout: timeout) }
        return try TestClient(port: port, timeout: timeout)
    }

    /// Terminates the server (SIGTERM, then SIGKILL after 2 s) and removes its log. Returns
    /// whether it exited cleanly (status 0) on SIGTERM.
    @discardableResult
    func stop() -> Bool {
        var clean = true
        if process.isRunning {
            kill(process.pid, SIGTERM)
            if !process.wait(timeout: 2) {
                clean = false
                kill(process.pid, SIGKILL)
                _ = process.wait(timeout: 10)
            }
        }
        try? FileManager.default.removeItem(at: logURL)
        return clean && process.exitedNormally && process.exitCode == 0
    }

    /// The whole log (standard output and standard error) so far.
    func log() -> String {
        String(decoding: FileManager.default.contents(atPath: logURL.path) ?? Data(), as: UTF8.self)
    }

    /// The end of the server's log, for failure messages.
    func logTail() -> String {
        guard let data = FileManager.default.contents(atPath: logURL.path) else { return "(no log)" }
        return String(decoding: data.suffix(2000), as: UTF8.self)
    }

    // MARK: - Helpers

    /// `arguments` plus `-u root` when the tests run as root and no `-u` is given: dogpiled,
    /// like memcached, refuses to run as root without `-u`, and `-u root` is the explicit
    /// override. Tests that start the binary go through here so they run as root or not.
    static func withUser(_ arguments: [String]) -> [String] {
        guard geteuid() == 0 || getuid() == 0 else { return arguments }
        let given = arguments.contains { $0 == "-u" || $0 == "--user" || ($0.hasPrefix("-u") && $0.count > 2) || $0.hasPrefix("--user=") }
        return given ? arguments : arguments + ["-u", "root"]
    }

    /// A TCP port that was free a moment ago: bind port 0 on loopback, read it back, close.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        defer { Glibc.close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                Glibc.bind(descriptor, socketAddress, length) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw HarnessError("bind/getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs the binary to completion (for command-line tests): exit status, stdout, stderr.
    /// `exactly`: pass `arguments` as they are, without the `-u root` that ``withUser(_:)`` adds
    /// as root.
    static func run(_ arguments: [String], timeout: Double = 10, exactly: Bool = false,
                    wrapper: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("dogpiled-run-\(UUID().uuidString)")
        let outPath = base.path + ".out", errPath = base.path + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let command = wrapper + [binaryPath] + (exactly ? arguments : withUser(arguments))
        let process = try ChildProcess(command[0], Array(command.dropFirst()), stdoutPath: outPath, stderrPath: errPath)
        guard process.wait(timeout: timeout) else {
            kill(process.pid, SIGKILL)
            _ = process.wait(timeout: 10)
            throw HarnessError("dogpiled \(arguments) did not exit within \(timeout) s")
        }
        let read = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        return (process.exitedNormally ? process.exitCode : 128 + process.exitCode, read(outPath), read(errPath))
    }
}

/// A child process started with `posix_spawn`, with every signal unblocked and at its default
/// action. (Foundation's `Process` passes on the test runner's signal mask, in which SIGTERM is
/// blocked, so the server would never see the SIGTERM that asks it to stop.)
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private var status: Int32?

    init(_ path: String, _ arguments: [String], stdoutPath: String, stderrPath: String,
         environment: [String: String] = [:]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        if stderrPath == stdoutPath {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var environmentStrings: [UnsafeMutablePointer<CChar>?] = []
        if !environment.isEmpty {
            var merged = ProcessInfo.processInfo.environment
            merged.merge(environment) { _, new in new }
            environmentStrings = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for pointer in environmentStrings { free(pointer) } }
        var child = pid_t()
        let result = environmentStrings.isEmpty
            ? posix_spawn(&child, path, &actions, &attributes, argv, environ)
            : posix_spawn(&child, path, &actions, &attributes, argv, environmentStrings)
        guard result == 0 else { throw HarnessError("posix_spawn \(path): \(String(cString: strerror(result)))") }
        pid = child
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = wait(timeout: 5)
        }
    }

    /// Whether the child has not been reaped yet (reaps it if it has exited).
    var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
        return status == nil
    }

    /// Waits up to `timeout` seconds for the child to exit; true if it did.
    func wait(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// Whether it exited (rather than being killed by a signal).
    var exitedNormally: Bool { (status ?? 0) & 0x7F == 0 }
    /// The exit status, or the signal number when killed.
    var exitCode: Int32 {
        guard let status else { return -1 }
        return exitedNormally ? (status >> 8) & 0xFF : status & 0x7F
    }
    var exitDescription: String { exitedNormally ? "status \(exitCode)" : "signal \(exitCode)" }
}
