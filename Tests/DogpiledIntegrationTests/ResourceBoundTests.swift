import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The attack shapes of issue 8 against the real binary: each holds its stated bound.
@Suite("Resource bounds", .serialized, .timeLimit(.minutes(1)))
struct ResourceBoundTests {
    // MARK: - Parked clients that hang up (item 4)

    @Test("-c 60: 49 parked waiters hang up; their waits go at once and new clients are admitted")
    func parkedWaitersHangUp() throws {
        try withServer(["-c", "60"]) { server in
            let observer = try server.connect()
            let holder = try server.connect()
            #expect(try holder.exchange("lockgen k 60000\r\n").hasPrefix("GEN "))
            var waiters: [TestClient] = []
            for _ in 0..<49 {
                let waiter = try server.connect()
                try waiter.send("lockgen k 60000 60000\r\n")
                waiters.append(waiter)
            }
            try eventually("49 waiters") { try observer.stats("locks")["generation_waiters"] == "49" }
            for waiter in waiters { waiter.close() }
            // Noticed at once, not after wait_ms (60 s).
            try eventually("the waits to go", timeout: 3) {
                try observer.stats("locks")["generation_waiters"] == "0"
                    && observer.stats()["curr_connections"] == "2"
            }
            var newcomers: [TestClient] = []
            for _ in 0..<50 {
                let client = try server.connect(timeout: 5)
                #expect(try client.exchange("version\r\n").hasPrefix("VERSION "))
                newcomers.append(client)
            }
            // The lease holder was not disturbed.
            #expect(try holder.exchange("version\r\n").hasPrefix("VERSION "))
        }
    }

    @Test("a dead writer queued on a mutex does not hold up a live reader")
    func deadWriterDoesNotBlockReader() throws {
        try withServer { server in
            let observer = try server.connect()
            let owner = try server.connect(), writer = try server.connect(), reader = try server.connect(timeout: 3)
            let locked = try owner.exchange("lock m 60000\r\n")
            #expect(locked.hasPrefix("LOCKED "))
            let token = locked.dropFirst("LOCKED ".count).trimmingCharacters(in: .whitespacesAndNewlines)
            try writer.send("lock m 60000 30000\r\n")
            try eventually("the writer to queue") { try observer.stats("locks")["mutex_waiters"] == "1" }
            try reader.send("rlock m 60000 30000\r\n")
            try eventually("the reader to queue") { try observer.stats("locks")["mutex_waiters"] == "2" }
            writer.close()
            try eventually("the dead writer's wait to go", timeout: 3) {
                try observer.stats("locks")["mutex_waiters"] == "1"
            }
            #expect(try owner.exchange("unlock m \(token)\r\n") == "UNLOCKED\r\n")
            // Within 3 s (the reader's timeout), not after the dead writer's 30 s.
            #expect(try reader.read(until: "\r\n").hasPrefix("LOCKED "))
        }
    }

    @Test("a parked client that half-closes is treated as gone (memcached closes on EOF)")
    func halfClosedWaiterIsGone() throws {
        try withServer { server in
            let observer = try server.connect()
            let holder = try server.connect(), waiter = try server.connect(timeout: 5)
            #expect(try holder.exchange("lockgen h 60000\r\n").hasPrefix("GEN "))
            try waiter.send("lockgen h 60000 60000\r\n")
            try eventually("the waiter to park") { try observer.stats("locks")["generation_waiters"] == "1" }
            waiter.shutdownWrite()
            try eventually("the wait to go", timeout: 3) { try observer.stats("locks")["generation_waiters"] == "0" }
            #expect(try waiter.readToEnd().isEmpty)
            #expect(waiter.peerClosed)
        }
    }

    @Test("a parked client that pipelines past its bound is closed and its wait dropped")
    func parkedPipelineOverBound() throws {
        try withServer(["-I", "64k"]) { server in
            let observer = try server.connect()
            let holder = try server.connect(), waiter = try server.connect(timeout: 10)
            #expect(try holder.exchange("lockgen p 60000\r\n").hasPrefix("GEN "))
            try waiter.send("lockgen p 60000 60000\r\n")
            try eventually("the waiter to park") { try observer.stats("locks")["generation_waiters"] == "1" }
            // More than one request of the largest item (-I 64k) plus its line, behind the wait.
            try? waiter.send(String(repeating: "get p\r\n", count: 20_000))
            #expect(String(decoding: try waiter.readToEnd(), as: UTF8.self) == "SERVER_ERROR out of memory reading request\r\n")
            try eventually("the wait to go") { try observer.stats("locks")["generation_waiters"] == "0" }
            #expect(try observer.stats()["read_buf_oom"] == "1")
        }
    }

    @Test("a multi-get line that never ends is bounded like any request")
    func endlessMultiGetLine() throws {
        try withServer(["-I", "64k"]) { server in
            let client = try server.connect(timeout: 10)
            try? client.send("get " + String(repeating: "k ", count: 100_000))
            #expect(String(decoding: try client.readToEnd(), as: UTF8.self) == "SERVER_ERROR out of memory reading request\r\n")
            #expect(try server.connect().exchange("version\r\n").hasPrefix("VERSION "))
        }
    }

    // MARK: - Shutdown (item 21)

    @Test("SIGTERM: a woken waiter runs nothing it pipelined behind its request")
    func shutdownRunsNothingPipelined() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let observer = try server.connect()
        let holder = try server.connect(), waiter = try server.connect()
        #expect(try holder.exchange("lockgen s 60000\r\n").hasPrefix("GEN "))
        try waiter.send("lockgen s 60000 60000\r\nset after 0 0 1\r\nx\r\nversion\r\n")
        try eventually("the waiter to park") { try observer.stats("locks")["generation_waiters"] == "1" }
        kill(server.process.pid, SIGTERM)
        #expect(String(decoding: try waiter.readToEnd(), as: UTF8.self) == "SERVER_ERROR shutting down\r\n")
        #expect(server.process.wait(timeout: 5))
        #expect(server.process.exitedNormally && server.process.exitCode == 0, "\(server.process.exitDescription)")
    }

    // MARK: - Idle timeout (item 6)

    @Test("-c 50 -o idle_timeout=2: 50 half-sent lines lock others out only until they are kicked")
    func idleClientsAreKicked() throws {
        try withServer(["-c", "50", "-o", "idle_timeout=2"]) { server in
            // The start-up probe's connection may still be closing: wait until this one is alone,
            // so exactly 50 are admitted (this one becomes the 50th idler).
            let first = try server.connect(timeout: 8)
            try eventually("the start-up probe to go") { try first.stats()["curr_connections"] == "1" }
            try first.send("get ke")
            var idlers: [TestClient] = [first]
            for _ in 1..<50 {
                let client = try server.connect(timeout: 8)
                try client.send("get ke")
                idlers.append(client)
            }
            let refused = try server.connect()
            #expect(String(decoding: try refused.readToEnd(), as: UTF8.self) == "ERROR Too many open connections\r\n")
            var admitted: TestClient?
            try eventually("a slot to free up", timeout: 6) {
                guard let client = try? server.connect(timeout: 2),
                      let reply = try? client.exchange("version\r\n"), reply.hasPrefix("VERSION ") else { return false }
                admitted = client
                return true
            }
            // Each worker scans on its own 1 s timer: the others follow within a second.
            try eventually("all 50 to be kicked", timeout: 3) { try admitted?.stats()["idle_kicks"] == "50" }
            #expect(try admitted?.stats("settings")["idle_timeout"] == "2")
            for idler in idlers { #expect(try idler.readToEnd().isEmpty) }
        }
    }

    @Test("an idle lease holder is closed, which hands its lease on; a parked waiter is not idle")
    func idleHolderReleasesLease() throws {
        try withServer(["-o", "idle_timeout=1"]) { server in
            let holder = try server.connect(), waiter = try server.connect(timeout: 8)
            #expect(try holder.exchange("lockgen i 60000\r\n").hasPrefix("GEN "))
            let started = Date()
            // The waiter parks for longer than idle_timeout: it must get the lease, not a kick.
            #expect(try waiter.exchange("lockgen i 60000 6000\r\n").hasPrefix("GEN "))
            #expect(Date().timeIntervalSince(started) < 5)
            #expect(try holder.readToEnd().isEmpty)
        }
    }

    @Test("accepted connections probe with TCP keepalive after 60 s, not the kernel's 2 hours")
    func keepaliveOnAcceptedSockets() throws {
        try withServer { server in
            let client = try server.connect()
            #expect(try client.exchange("version\r\n").hasPrefix("VERSION "))
            #expect(try client.stats("settings")["tcp_keepalive_idle"] == "60")
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client.descriptor, $0, &length) }
            }
            let clientPort = Int(UInt16(bigEndian: address.sin_port))
            // The server's end of this connection in /proc/net/tcp: "tr" 2 is the keepalive timer,
            // "tm->when" its remaining time in clock ticks (USER_HZ, 100 per second).
            let local = String(format: "0100007F:%04X", server.port), remote = String(format: "0100007F:%04X", clientPort)
            // Just after a reply the retransmission timer ("01") shows until the ACK is in.
            var timer: [Substring]?
            try? eventually("the keepalive timer", timeout: 2) {
                let row = procLines("/proc/net/tcp").map { $0.split(separator: " ") }
                    .first { $0.count > 5 && $0[1] == local && $0[2] == remote }
                timer = row.map { $0[5].split(separator: ":") }
                return timer?.first == "02"
            }
            #expect(timer?.first == "02", "timer: \(String(describing: timer))")
            #expect((timer?.last).flatMap { Int($0, radix: 16) } ?? .max <= 60 * 100)
        }
    }

    // MARK: - Buffered input (items 2 and 3)

    @Test("-m 16: 150 clients each sending a 1 MB set minus its last byte add at most 24 MB of RSS")
    func halfSentSetsAreBounded() throws {
        try withServer(["-m", "16"]) { server in
            let observer = try server.connect()
            #expect(try observer.exchange("set warm 0 0 1\r\nx\r\n") == "STORED\r\n")
            let idle = try residentBytes(server.process.pid)
            let value = [UInt8](repeating: 0x62, count: 1_000_000)
            var clients: [TestClient] = []
            for index in 0..<150 {
                let client = try server.connect(timeout: 5)
                var request = Array("set big\(index) 0 0 \(value.count)\r\n".utf8) + value + [0x0D, 0x0A]
                request.removeLast()
                // The server closes the ones over the bound: their send fails, as it should.
                try? client.send(request)
                clients.append(client)
            }
            usleep(300_000)
            let loaded = try residentBytes(server.process.pid)
            print("RSS idle \(idle >> 10) KB, with 150 half-sent sets \(loaded >> 10) KB (+\((loaded - idle) >> 10) KB)")
            let stats = try observer.stats()
            let limit = Int(try observer.stats("settings")["input_buffer_limit"] ?? "") ?? 0
            #expect(limit > 0 && limit <= 24 << 20)
            #expect(loaded - idle <= 24 << 20, "RSS grew by \(loaded - idle) bytes")
            #expect(Int(stats["read_buf_oom"] ?? "0") ?? 0 >= 100)
            #expect(Int(stats["input_buffer_bytes"] ?? "0") ?? 0 <= limit + 151 * 16384)
            for client in clients { client.close() }
            try eventually("the buffers to go") { try observer.stats()["curr_connections"] == "1" }
            let after = try observer.stats()
            #expect(after["input_buffer_bytes"] == "16384")
            let closed = try residentBytes(server.process.pid)
            print("RSS after the 150 clients left \(closed >> 10) KB (+\((closed - idle) >> 10) KB)")
            #expect(closed - idle <= 12 << 20)
            // The server still takes a whole 1 MB value.
            let full = try server.connect(timeout: 10)
            try full.send(setRequest("whole", value))
            #expect(try full.read(until: "\r\n") == "STORED\r\n")
        }
    }

    @Test("stats shows the bytes queued for a client that does not read its replies")
    func outputBytesInStats() throws {
        try withServer { server in
            let observer = try server.connect()
            let value = payload(60_000, seed: 8)
            #expect(try observer.exchange(String(decoding: setRequest("w", value), as: UTF8.self)) == "STORED\r\n")
            #expect(Int(try observer.stats()["input_buffer_bytes"] ?? "0") ?? 0 >= 16384)
            let slow = try server.connect(timeout: 20)
            try slow.send(String(repeating: "get w\r\n", count: 300))
            // 60 KB values go out by reference: queued output is what was copied
            // (output_buffer_bytes) plus the item bytes it references (output_referenced_bytes).
            func queued() throws -> Int {
                let stats = try observer.stats()
                return (Int(stats["output_buffer_bytes"] ?? "0") ?? 0) + (Int(stats["output_referenced_bytes"] ?? "0") ?? 0)
            }
            try eventually("output to queue up") { try queued() > 1 << 20 }
            _ = try slow.read(count: valueReply("w", value).count * 300)
            try eventually("the output to drain") { try queued() == 0 }
        }
    }
}

/// Polls `condition` every 20 ms for up to `timeout` seconds.
private func eventually(_ what: String, timeout: Double = 10, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw HarnessError("timed out waiting for \(what)")
}

/// The lines of a /proc file, read to its end (they come a page at a time, with no size given).
private func procLines(_ path: String) -> [String] {
    guard let file = fopen(path, "r") else { return [] }
    defer { fclose(file) }
    var lines: [String] = []
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    while getline(&line, &capacity, file) > 0 { lines.append(String(cString: line!)) }
    free(line)
    return lines
}

/// The resident set of process `pid`, from `/proc/<pid>/status` (`VmRSS`).
func residentBytes(_ pid: pid_t) throws -> Int {
    let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else {
        throw HarnessError("no VmRSS for \(pid)")
    }
    return kilobytes * 1024
}
