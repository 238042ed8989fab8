import Foundation
import Testing

/// The command line of the real binary: informational flags and refused flags.
@Suite("Command line", .timeLimit(.minutes(1)))
struct CommandLineTests {
    @Test("--version prints the version and exits 0")
    func version() throws {
        let result = try TestServer.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("1.6.18-dogpiled"))
    }

    @Test("-V prints the version and exits 0")
    func shortVersion() throws {
        let result = try TestServer.run(["-V"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("1.6.18-dogpiled"))
    }

    @Test("-h prints usage and exits 0", arguments: ["-h", "--help"])
    func help(flag: String) throws {
        let result = try TestServer.run([flag])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE") || result.stdout.lowercased().contains("usage"))
        #expect(result.stdout.contains("--port"))
    }

    @Test("unsupported or malformed flags exit non-zero with a message on stderr", arguments: [
        ["-S"], ["-e", "/tmp/dogpiled-memory-file"], ["-o", "ext_path=/tmp/x:1g"], ["-o", "hashpower=5"],
        ["-f", "1"], ["-o", "foo"], ["-U", "1"], ["-B", "binary"], ["-t", "0"], ["-p", "70000"],
        ["-I", "2k", "-m", "0"], ["-I", "512"], ["-a", "9z"], ["--no-such-flag"], ["-m", "banana"],
    ])
    func badFlag(arguments: [String]) throws {
        // -p 0 keeps a flag that is wrongly accepted from colliding with a real server's port.
        let result = try TestServer.run(arguments.contains("-p") ? arguments : arguments + ["-p", "0"], timeout: 5)
        #expect(result.status != 0, "exit status for \(arguments)")
        #expect(!result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "stderr for \(arguments)")
    }

    @Test("a port already in use fails with a message instead of serving")
    func portInUse() throws {
        try withServer { server in
            let result = try TestServer.run(["-l", "127.0.0.1", "-p", String(server.port)])
            #expect(result.status != 0)
            #expect(!result.stderr.isEmpty)
        }
    }
}
