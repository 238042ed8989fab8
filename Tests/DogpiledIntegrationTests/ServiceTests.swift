import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Running as a service: config file precedence, --check-config, systemd notifications, signals
/// (SIGTERM's clean stop, SIGHUP's reload), logging volume and `stats` fields.
@Suite("Service", .timeLimit(.minutes(1)))
struct ServiceTests {
    static let shippedConfig = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/dogpiled.toml").path

    @Test("defaults < --config file < flags, as `stats settings` shows")
    func precedence() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dogpiled.toml"
        for attempt in 1...3 {
            let port = try TestServer.freePort()
            try "port = \(port)\nthreads = 2\nmemory = \"32m\"\n".write(toFile: path, atomically: true, encoding: .utf8)
            let server = try TestServer.launch(["--config", path, "-t", "3"], port: port, socketPath: nil)
            do {
                try server.waitUntilReady()
            } catch {
                server.stop()
                if attempt == 3 { throw error }
                continue  // somebody took the port meanwhile
            }
            defer { #expect(server.stop(), "clean exit on SIGTERM") }
            let settings = try server.connect().stats("settings")
            #expect(settings["tcpport"] == String(port))  // file
            #expect(settings["num_threads"] == "3")  // flag over file
            #expect(settings["maxbytes"] == String(32 * 1024 * 1024))  // file
            // Neither sets these: the defaults.
            #expect(settings["maxconns"] == "1024")
            #expect(settings["item_size_max"] == "1048576")
            #expect(settings["reqs_per_event"] == "20")
            #expect(settings["tcp_backlog"] == "1024")
            #expect(settings["evictions"] == "on")
            #expect(settings["verbosity"] == "0")
            #expect(settings["inter"] == "127.0.0.1")
            return
        }
    }

    @Test("--check-config: OK for the shipped file, the setting and its line otherwise")
    func checkConfig() throws {
        let good = try TestServer.run(["--check-config", Self.shippedConfig])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("OK"))

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bad.toml"
        try "threads = 2\nthread_count = 4\n".write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try TestServer.run(["--check-config", path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains(":2:") && bad.stderr.contains("thread_count"), "\(bad.stderr)")
        #expect(!bad.stdout.contains("OK"))
    }

    @Test("an unknown setting in --config refuses to start")
    func unknownSettingRefusesToStart() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bad.toml"
        try "# tuned\nmemroy = 128\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TestServer.run(["--config", path, "-l", "127.0.0.1", "-p", "0"], timeout: 10)
        #expect(result.status != 0)
        #expect(result.stderr.contains("memroy") && result.stderr.contains(":2:"), "\(result.stderr)")
    }

    @Test("systemd notify: READY=1 once the port accepts, STOPPING=1 on SIGTERM, exit 0")
    func systemdNotify() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let notify = try DatagramSocket(path: directory + "/notify")
        let port = try TestServer.freePort()
        let server = try TestServer.launch(["-l", "127.0.0.1", "-p", String(port)], port: port, socketPath: nil,
                                           environment: ["NOTIFY_SOCKET": notify.path])
        defer { server.stop() }
        let ready = try notify.receive(containing: "READY=1", timeout: 15)
        // Right after READY=1, without retrying, the port accepts and it is this server.
        let client = try TestClient(port: port)
        #expect(try client.stats()["pid"] == String(server.process.pid), "READY=1 was \(ready.debugDescription)")
        client.close()
        kill(server.process.pid, SIGTERM)
        _ = try notify.receive(containing: "STOPPING=1", timeout: 10)
        #expect(server.process.wait(timeout: 10))
        #expect(server.process.exitedNormally && server.process.exitCode == 0, "\(server.process.exitDescription)")
    }

    @Test("SIGTERM answers a parked waiter SERVER_ERROR shutting down and exits 0")
    func sigtermWithParkedWaiter() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let holder = try server.connect(), waiter = try server.connect()
        #expect(try holder.exchange("lockgen k 10000\r\n").hasPrefix("GEN "))
        try waiter.send("lockgen k 10000 10000\r\n")
        try waitFor("the waiter to park") { try server.connect().stats("locks")["generation_waiters"] == "1" }
        let started = Date()
        kill(server.process.pid, SIGTERM)
        #expect(String(decoding: try waiter.readToEnd(), as: UTF8.self) == "SERVER_ERROR shutting down\r\n")
        #expect(try holder.readToEnd().isEmpty)
        #expect(server.process.wait(timeout: 5), "exit after SIGTERM")
        #expect(Date().timeIntervalSince(started) < 3.5)
        #expect(server.process.exitedNormally && server.process.exitCode == 0, "\(server.process.exitDescription)")
    }

    @Test("SIGTERM lets queued replies drain before closing")
    func sigtermDrainsQueuedReplies() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let client = try server.connect(timeout: 20)
        let value = payload(1_000_000, seed: 42)
        try client.send(setRequest("big", value))
        #expect(try client.read(until: "\r\n") == "STORED\r\n")
        // A small receive buffer and 5 MB of replies (the kernel takes up to ~4 MB of them) leave
        // part of the replies queued in the server itself when SIGTERM arrives.
        var size: Int32 = 16384
        setsockopt(client.descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let gets = 5
        try client.send(String(repeating: "get big\r\n", count: gets))
        try waitFor("the gets to run") { try server.connect().stats()["cmd_get"] == String(gets) }
        kill(server.process.pid, SIGTERM)
        usleep(200_000)
        let received = try client.readToEnd()
        let expected = valueReply("big", value)
        #expect(received.count == gets * expected.count)
        #expect(received == Array([[UInt8]](repeating: expected, count: gets).joined()))
        #expect(server.process.wait(timeout: 5))
        #expect(server.process.exitedNormally && server.process.exitCode == 0, "\(server.process.exitDescription)")
    }

    @Test("SIGHUP reloads regions, lock waits and verbosity; a broken file changes nothing")
    func sighupReload() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dogpiled.toml"
        try "lock_wait_ms = 5000\n\n[regions.r]\nmemory = \"4m\"\nstale_ttl = 5\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        try withServer(["--config", path]) { server in
            let client = try server.connect()
            var regions = try client.stats("regions")
            #expect(regions["r:memory_limit"] == "4194304" && regions["r:stale_ttl"] == "5")

            try "verbosity = 1\nlock_wait_ms = 700\n\n[regions.r]\nmemory = \"8m\"\nstale_ttl = 9\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            kill(server.process.pid, SIGHUP)
            try waitFor("the reload") { server.log().contains("reloaded") }
            regions = try client.stats("regions")
            #expect(regions["r:memory_limit"] == "8388608")
            #expect(regions["r:stale_ttl"] == "9")
            #expect(try client.stats("settings")["verbosity"] == "1")
            let line = server.log().split(separator: "\n").first { $0.contains("reloaded") }.map(String.init) ?? ""
            for change in ["lock_wait_ms 5000 -> 700", "r.memory 4194304 -> 8388608", "r.stale_ttl 5 -> 9", "verbosity 0 -> 1"] {
                #expect(line.contains(change), "reload line: \(line)")
            }
            #expect(try busyAfter(server) > 0.5)

            // A broken file: nothing changes, an error is logged, the daemon keeps serving.
            try "lock_wait_ms = 100\n[regions.r\nmemory = \"2m\"\n".write(toFile: path, atomically: true, encoding: .utf8)
            kill(server.process.pid, SIGHUP)
            try waitFor("the failed reload") { server.log().contains("reload failed") }
            regions = try client.stats("regions")
            #expect(regions["r:memory_limit"] == "8388608" && regions["r:stale_ttl"] == "9")
            #expect(try client.stats("settings")["verbosity"] == "1")
            #expect(try client.exchange("version\r\n").hasPrefix("VERSION "))
            #expect(try busyAfter(server) > 0.5, "lock_wait_ms stays 700")
        }
    }

    @Test("SIGHUP keeps command-line flags over the file, as at start-up")
    func reloadKeepsFlags() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dogpiled.toml"
        try "verbosity = 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        try withServer(["--config", path, "-v"]) { server in
            let client = try server.connect()
            #expect(try client.stats("settings")["verbosity"] == "1")
            kill(server.process.pid, SIGHUP)
            try waitFor("the reload") { server.log().contains("reloaded") }
            #expect(try client.stats("settings")["verbosity"] == "1")
        }
    }

    /// Seconds a `lock` without wait_ms on a held mutex takes to answer BUSY (asserted 0.5...3).
    private func busyAfter(_ server: TestServer) throws -> Double {
        let holder = try server.connect(), waiter = try server.connect()
        let name = "m\(UInt32.random(in: 0...UInt32.max))"
        #expect(try holder.exchange("lock \(name) 60000\r\n").hasPrefix("LOCKED "))
        let started = Date()
        #expect(try waiter.exchange("lock \(name) 60000\r\n") == "BUSY\r\n")
        let elapsed = Date().timeIntervalSince(started)
        #expect((0.5...3.0).contains(elapsed), "BUSY after \(elapsed) s")
        return elapsed
    }

    @Test("default verbosity logs start-up and nothing per request")
    func quietLogging() throws {
        try withServer { server in
            let client = try server.connect()
            _ = try client.stats()
            let before = server.log()
            #expect(before.contains("starting") && before.contains("listening"), "\(before)")
            for index in 0..<50 {
                #expect(try client.exchange("set key\(index) 0 0 5\r\nhello\r\n") == "STORED\r\n")
                #expect(try client.exchange("get key\(index)\r\n", until: "END\r\n").hasPrefix("VALUE"))
            }
            _ = try client.stats()
            usleep(200_000)
            let after = server.log()
            #expect(after.split(separator: "\n").count == before.split(separator: "\n").count, "new log lines: \(after.dropFirst(before.count))")
        }
    }

    @Test("stats carries memcached's field names with integer values")
    func statsFields() throws {
        try withServer { server in
            let client = try server.connect()
            #expect(try client.exchange("set a 0 0 1\r\nx\r\n") == "STORED\r\n")
            _ = try client.exchange("get a\r\n", until: "END\r\n")
            _ = try client.exchange("get missing\r\n", until: "END\r\n")
            let stats = try client.stats()
            let integers = ["pid", "uptime", "time", "curr_connections", "total_connections", "rejected_connections",
                            "cmd_get", "cmd_set", "get_hits", "get_misses", "curr_items", "total_items", "bytes",
                            "limit_maxbytes", "evictions", "reclaimed", "expired_unfetched", "threads"]
            for name in integers {
                #expect(stats[name].flatMap { Int($0) } != nil, "\(name) = \(stats[name] ?? "missing")")
            }
            #expect(stats["version"]?.contains("1.6.18") == true)
            #expect(stats["pid"] == String(server.process.pid))
            #expect((stats["uptime"].flatMap { Int($0) } ?? -1) >= 0)
            let now = Int(Date().timeIntervalSince1970)
            #expect(abs((stats["time"].flatMap { Int($0) } ?? 0) - now) <= 5)
            #expect(stats["cmd_get"] == "2" && stats["get_hits"] == "1" && stats["get_misses"] == "1")
            #expect(stats["cmd_set"] == "1" && stats["curr_items"] == "1" && stats["total_items"] == "1")
            #expect(stats["limit_maxbytes"] == "67108864" && stats["threads"] == "4")
            #expect(stats["rejected_connections"] == "0")
            // The readiness probe's connection may still be closing on its worker: wait for it.
            try waitFor("curr_connections 1") { try client.stats()["curr_connections"] == "1" }
        }
    }
}

/// Polls `condition` every 20 ms for up to `timeout` seconds.
func waitFor(_ what: String, timeout: Double = 10, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw HarnessError("timed out waiting for \(what)")
}

/// An AF_UNIX datagram socket bound at a path: stands in for systemd's notify socket.
private final class DatagramSocket {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw HarnessError("path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw HarnessError("bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// Receives datagrams until one contains `text`; returns it.
    func receive(containing text: String, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [String] = []
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw HarnessError("no \(text) within \(timeout) s; got \(seen)") }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000) + 1) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            let message = String(decoding: buffer[..<count], as: UTF8.self)
            if message.split(separator: "\n").contains(Substring(text)) { return message }
            seen.append(message)
        }
    }
}
