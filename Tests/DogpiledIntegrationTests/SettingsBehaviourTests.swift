import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The settings table as the binary applies it: range checks without traps, units, restart-only
/// settings reported on SIGHUP, new settings visible in `stats settings`, and log volume under
/// a binary-protocol flood (issue 8, items 8, 16, 17 and 18).
@Suite("Settings and logging", .timeLimit(.minutes(2)))
struct SettingsBehaviourTests {
    @Test("sizes that overflow are refused with a message, never a crash", arguments: [
        ["-m", "8796093022208"], ["-m", "9223372036854775807"], ["-I", "9999999999g"], ["-c", "99999999999999"],
        ["--region", "a:memory=9999999999999t"], ["-b", "4294967296"],
    ])
    func overflowingFlags(arguments: [String]) throws {
        let result = try TestServer.run(arguments + ["-p", "0"], timeout: 5)
        #expect(result.status == 1, "exit status \(result.status) (above 128 is a signal): \(result.stderr)")
        #expect(result.stderr.hasPrefix("dogpiled: "), "\(result.stderr)")
    }

    @Test("--check-config: budgets over -m, bare sizes and an empty pidfile are errors, not crashes", arguments: [
        "memory = \"4t\"\n[regions.a]\nmemory = \"4t\"\n[regions.b]\nmemory = \"4t\"\n",
        "memory = 8796093022208\n",
        "[regions.a]\nmemory = 16\n",
        "pidfile = \"\"\n",
        "state_dir = \"\"\n",
        "idle_timeout = -1\n",
    ])
    func checkConfigRefuses(text: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dogpiled.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let check = try TestServer.run(["--check-config", path], timeout: 5)
        #expect(check.status == 1, "exit status \(check.status): \(check.stderr)")
        // And start-up agrees with --check-config: the same error, the same status.
        let start = try TestServer.run(["--config", path, "-p", "0"], timeout: 5)
        #expect(start.status == 1, "exit status \(start.status): \(start.stderr)")
        #expect(!start.stderr.contains("USAGE"), "\(start.stderr)")
    }

    @Test("-o idle_timeout and the keepalive settings show in stats settings")
    func newSettingsShown() throws {
        try withServer(["-o", "idle_timeout=7", "--tcp-keepalive-idle", "30", "--state-dir", "/tmp"]) { server in
            let settings = try server.connect().stats("settings")
            #expect(settings["idle_timeout"] == "7")
            #expect(settings["tcp_keepalive"] == "yes")
            #expect(settings["tcp_keepalive_idle"] == "30")
            #expect(settings["tcp_keepalive_interval"] == "10")
            #expect(settings["tcp_keepalive_count"] == "6")
            #expect(settings["state_dir"] == "/tmp")
        }
    }

    @Test("SIGHUP names every changed setting that needs a restart, with both values")
    func reloadReportsRestartOnly() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dogpiled.toml"
        try "requests_per_event = 20\n".write(toFile: path, atomically: true, encoding: .utf8)
        try withServer(["--config", path]) { server in
            try """
                requests_per_event = 5
                backlog = 10
                unix_mask = "755"
                pidfile = "\(directory)/later.pid"
                idle_timeout = 300
                """.write(toFile: path, atomically: true, encoding: .utf8)
            kill(server.process.pid, SIGHUP)
            try waitFor("the reload") { server.log().contains("reloaded") }
            let line = server.log().split(separator: "\n").first { $0.contains("only on restart") }.map(String.init) ?? ""
            for change in ["requests_per_event 20 -> 5", "backlog 1024 -> 10", "unix_mask 700 -> 755", "pidfile (none) -> ", "idle_timeout 0 -> 300"] {
                #expect(line.contains(change), "restart-only line: \(line)")
            }
            #expect(try server.connect().stats("settings")["reqs_per_event"] == "20", "not applied")
        }
    }

    @Test("1000 connections opening with 0x80 log a bounded number of lines")
    func binaryProtocolFlood() throws {
        try withServer { server in
            for _ in 0..<1000 {
                let client = try server.connect()
                try client.send([0x80, 0x00, 0x00, 0x00])
                _ = try? client.readToEnd()
                client.close()
            }
            #expect(try server.connect().exchange("version\r\n").hasPrefix("VERSION "))
            let lines = server.log().split(separator: "\n").filter { $0.contains("binary protocol") }
            // One line per 10 s, plus one at the start: the test takes a few seconds at most.
            #expect((1...3).contains(lines.count), "\(lines.count) lines")
            // Every one of them is counted, though.
            #expect(try server.connect().stats()["binary_protocol_closes"] == "1000")
        }
    }
}
