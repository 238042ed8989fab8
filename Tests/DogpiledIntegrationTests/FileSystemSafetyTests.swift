import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the daemon does to the file system at start-up: `-s` and `-P` must never destroy or
/// write through a file that is not theirs (issue 8, items 13 and 14).
@Suite("File system safety", .timeLimit(.minutes(1)))
struct FileSystemSafetyTests {
    @Test("-s on a regular file refuses to start and leaves the file as it was")
    func unixSocketOverRegularFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/precious"
        try "keep me\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TestServer.run(["-s", path], timeout: 5)
        #expect(result.status == 71, "exit status \(result.status): \(result.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me\n")
        #expect(!result.stderr.contains("USAGE"), "a run-time failure prints no usage: \(result.stderr)")
    }

    @Test("-s replaces a socket left by an earlier run, and -a is the socket's mode from the start")
    func unixSocketModeAndStaleSocket() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dogpiled.sock"
        // A stale socket: bound, then its owner went away without removing it.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(stale)
        let server = try TestServer.startUnix(path: path, ["-a", "640"])
        defer { #expect(server.stop(), "clean exit on SIGTERM") }
        #expect(try server.connect().exchange("version\r\n").hasPrefix("VERSION "))
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o640, "mode \(String(info.st_mode & 0o777, radix: 8))")
    }

    @Test("-P through a symlink replaces the link and leaves its target untouched")
    func pidFileSymlink() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/target", pidPath = directory + "/dogpiled.pid"
        try "do not overwrite\n".write(toFile: target, atomically: true, encoding: .utf8)
        #expect(symlink(target, pidPath) == 0)
        try withServer(["-P", pidPath]) { server in
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "do not overwrite\n")
            var info = stat()
            #expect(lstat(pidPath, &info) == 0)
            #expect(info.st_mode & S_IFMT == S_IFREG, "the pid file is a regular file now")
            #expect(try String(contentsOfFile: pidPath, encoding: .utf8) == "\(server.process.pid)\n")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".tmp") }
            #expect(leftovers.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: pidPath), "removed on a clean exit")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "do not overwrite\n")
    }

    @Test("a pid file that cannot be written is a run-time failure: one line, exit 71, no usage")
    func pidFileUnwritable() throws {
        let result = try TestServer.run(["-p", "0", "-P", "/nonexistent-dir/dogpiled.pid"], timeout: 5)
        #expect(result.status == 71, "exit status \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("pid file"))
        #expect(!result.stderr.contains("USAGE"), "\(result.stderr)")
    }
}
