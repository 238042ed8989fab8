import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Connection life cycle: closing rules, half-close, limits, Unix sockets, many clients.
@Suite("Connections", .timeLimit(.minutes(1)))
struct ConnectionTests {
    @Test("quit after pipelined requests: every reply is written before the close")
    func quitFlushesReplies() throws {
        try withServer { server in
            let client = try server.connect()
            var request: [UInt8] = []
            var expected = ""
            for index in 0..<200 {
                request += setRequest("q\(index)", Array("value-\(index)".utf8))
                request += Array("get q\(index)\r\n".utf8)
                expected += "STORED\r\nVALUE q\(index) 0 \("value-\(index)".utf8.count)\r\nvalue-\(index)\r\nEND\r\n"
            }
            request += Array("quit\r\nget q0\r\n".utf8)  // nothing after quit is run
            try client.send(request)
            let reply = try client.readToEnd()
            #expect(String(decoding: reply, as: UTF8.self) == expected)
        }
    }

    @Test("a client that shuts down its write side still receives every reply")
    func halfClose() throws {
        try withServer { server in
            let setup = try server.connect()
            let value = payload(60_000, seed: 3)
            #expect(try setup.exchange(String(decoding: setRequest("wide", value), as: UTF8.self)) == "STORED\r\n")
            let client = try server.connect(timeout: 30)
            // ~9 MB of replies: more than the server queues before it pauses reading.
            var request = ""
            for _ in 0..<150 { request += "get wide\r\n" }
            request += "version\r\n"
            try client.send(request)
            client.shutdownWrite()
            let reply = try client.readToEnd()
            let single = valueReply("wide", value)
            let version = Array(try setup.exchange("version\r\n").utf8)
            #expect(reply.count == single.count * 150 + version.count)
            for index in [0, 1, 75, 149] where reply.count >= single.count * (index + 1) {
                #expect(Array(reply[(single.count * index)..<(single.count * (index + 1))]) == single, "reply \(index)")
            }
            #expect(Array(reply.suffix(version.count)) == version)
        }
    }

    @Test("-R 2: a long pipeline yields to others between turns and is answered in order")
    func requestsPerEventYields() throws {
        try withServer(["-R", "2"]) { server in
            let client = try server.connect()
            var request = "", expected = ""
            for index in 0..<100 {
                request += "set y\(index) 0 0 1\r\n\(index % 10)\r\nget y\(index)\r\n"
                expected += "STORED\r\nVALUE y\(index) 0 1\r\n\(index % 10)\r\nEND\r\n"
            }
            try client.send(request + "version\r\n")
            #expect(try client.read(until: "VERSION ") == expected + "VERSION ")
            #expect(Int(try server.connect().stats()["conn_yields"] ?? "0") ?? 0 >= 50)
        }
    }

    @Test("quit right after the output high-water mark still closes the connection")
    func quitAfterHighWater() throws {
        try withServer { server in
            let setup = try server.connect()
            let value = payload(60_000, seed: 4)
            #expect(try setup.exchange(String(decoding: setRequest("w", value), as: UTF8.self)) == "STORED\r\n")
            // 70 replies of 60,030 bytes pass the 4 MiB output high-water mark with the very last
            // get, so `quit` is parsed only after the output has drained.
            let client = try server.connect(timeout: 5)
            try client.send(String(repeating: "get w\r\n", count: 70) + "quit\r\n")
            let reply = try client.readToEnd()
            #expect(reply.count == valueReply("w", value).count * 70)
        }
    }

    @Test("2049 bytes without a newline close a non-get connection")
    func lineTooLong() throws {
        try withServer { server in
            let client = try server.connect()
            try client.send([UInt8](repeating: UInt8(ascii: "a"), count: 2049))
            #expect(try client.readToEnd().isEmpty)
            #expect(client.peerClosed)
            // 2048 bytes are still fine: the newline completes the line (an unknown command).
            let other = try server.connect()
            try other.send([UInt8](repeating: UInt8(ascii: "a"), count: 2048))
            usleep(50_000)
            #expect(try other.exchange("\r\n") == "ERROR\r\n")
            #expect(try other.exchange("version\r\n").hasPrefix("VERSION "))
        }
    }

    @Test("a first byte of 0x80 (binary protocol) closes the connection")
    func binaryProtocolCloses() throws {
        try withServer { server in
            let client = try server.connect()
            // A binary-protocol GET header for key "k".
            var header = [UInt8](repeating: 0, count: 24)
            header[0] = 0x80
            header[3] = 1
            header[11] = 1
            try client.send(header + [UInt8(ascii: "k")])
            #expect(try client.readToEnd().isEmpty)
            #expect(client.peerClosed)
            // Only the first byte counts: 0x80 later in a text stream is just a bad line.
            let text = try server.connect()
            #expect(try text.exchange("version\r\n").hasPrefix("VERSION "))
            try text.send([0x80] + Array("x\r\n".utf8))
            #expect(try text.read(until: "\r\n") == "ERROR\r\n")
        }
    }

    @Test("with -c 5 the sixth connection gets the memcached error and is closed")
    func connectionLimit() throws {
        try withServer(["-c", "5", "-t", "2"]) { server in
            var clients: [TestClient] = []
            for _ in 0..<5 {
                let client = try server.connect()
                // Make sure each connection was accepted and handed to a worker.
                #expect(try client.exchange("version\r\n").hasPrefix("VERSION "))
                clients.append(client)
            }
            let sixth = try server.connect()
            let reply = try sixth.readToEnd()
            #expect(String(decoding: reply, as: UTF8.self) == "ERROR Too many open connections\r\n")
            let stats = try clients[0].stats()
            #expect(stats["rejected_connections"] == "1")
            #expect(stats["curr_connections"] == "5")
            #expect(stats["max_connections"] == "5")
            // Closing one frees a slot.
            clients.removeLast().close()
            var admitted = false
            for _ in 0..<100 where !admitted {
                let retry = try server.connect()
                if let line = try? retry.exchange("version\r\n"), line.hasPrefix("VERSION ") {
                    admitted = true
                } else {
                    usleep(20_000)
                }
            }
            #expect(admitted)
        }
    }

    @Test("-s path -a 700 serves the protocol on a Unix socket")
    func unixSocket() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dogpiled.sock"
        let server = try TestServer.startUnix(path: path, ["-a", "700"])
        defer { server.stop() }
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect((info.st_mode & S_IFMT) == S_IFSOCK)
        #expect((info.st_mode & 0o777) == 0o700)
        let client = try server.connect()
        #expect(try client.exchange("set u 0 0 4\r\nunix\r\n") == "STORED\r\n")
        #expect(try client.exchange("get u\r\n", until: "END\r\n") == "VALUE u 0 4\r\nunix\r\nEND\r\n")
        #expect(server.stop(), "exits with status 0 on SIGTERM")
        #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed on shutdown")
    }

    @Test("50 concurrent clients doing 200 set/get pairs each see their own values")
    func concurrentClients() throws {
        try withServer { server in
            let port = server.port
            let errors = runConcurrently(50) { thread in
                let client = try TestClient(port: port, timeout: 20)
                for index in 0..<200 {
                    let key = "t\(thread)-\(index % 37)"
                    let value = payload(1 + (index * 7 + thread) % 2000, seed: UInt64(thread * 1000 + index))
                    try client.send(setRequest(key, value, flags: UInt32(thread)))
                    let stored = try client.read(until: "\r\n")
                    guard stored == "STORED\r\n" else { throw HarnessError("thread \(thread) set \(index): \(stored)") }
                    try client.send("get \(key)\r\n")
                    let reply = try client.readBytes(until: Array("END\r\n".utf8))
                    guard reply == valueReply(key, value, flags: UInt32(thread)) else {
                        throw HarnessError("thread \(thread) get \(index): wrong value (\(reply.count) bytes)")
                    }
                }
            }
            for error in errors.prefix(5) { Issue.record(error) }
            #expect(errors.isEmpty)
            let stats = try server.connect().stats()
            #expect(stats["cmd_set"] == "10000")
            #expect(stats["get_hits"] == "10000")
        }
    }
}
