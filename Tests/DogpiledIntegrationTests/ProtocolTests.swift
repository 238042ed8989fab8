import Dogpile
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Requests and replies over a real TCP connection to the built `dogpiled`.
@Suite("Protocol over TCP", .timeLimit(.minutes(1)))
struct ProtocolTests {
    @Test("set then get returns the value, flags and END")
    func basicSetGet() throws {
        try withServer { server in
            let client = try server.connect()
            #expect(try client.exchange("set greeting 42 0 5\r\nhello\r\n") == "STORED\r\n")
            #expect(try client.exchange("get greeting\r\n", until: "END\r\n") == "VALUE greeting 42 5\r\nhello\r\nEND\r\n")
            #expect(try client.exchange("get missing\r\n", until: "END\r\n") == "END\r\n")
            let gets = try client.exchange("gets greeting\r\n", until: "END\r\n")
            #expect(gets.hasPrefix("VALUE greeting 42 5 ") && gets.hasSuffix("\r\nhello\r\nEND\r\n"))
            #expect(try client.exchange("delete greeting\r\n") == "DELETED\r\n")
            #expect(try client.exchange("get greeting\r\n", until: "END\r\n") == "END\r\n")
            #expect(try client.exchange("version\r\n").hasPrefix("VERSION 1.6.18"))
        }
    }

    @Test("an immediate flush_all supersedes a pending delayed one, as in memcached")
    func immediateFlushCancelsDelayedFlush() throws {
        try withServer { server in
            let client = try server.connect()
            #expect(try client.exchange("flush_all 2\r\n") == "OK\r\n")
            #expect(try client.exchange("flush_all\r\n") == "OK\r\n")
            #expect(try client.exchange("set k 0 0 1\r\nx\r\n") == "STORED\r\n")
            usleep(3_500_000)
            #expect(try client.exchange("get k\r\n", until: "END\r\n") == "VALUE k 0 1\r\nx\r\nEND\r\n")
        }
    }

    @Test("1000 mixed requests in one write are answered in order")
    func pipelining() throws {
        // A small model of the cache decides every expected reply.
        var model: [String: String] = [:]
        var counter: UInt64 = 0
        var request = Array("set ctr 0 0 1\r\n0\r\n".utf8)
        var expected = "STORED\r\n"
        var generator = SplitMix64(seed: 7)
        for index in 0..<1000 {
            let key = "k\(generator.next() % 40)"
            switch generator.next() % 7 {
            case 0, 1:
                let value = "v\(index)-" + String(repeating: "x", count: Int(generator.next() % 300))
                request += setRequest(key, Array(value.utf8))
                expected += "STORED\r\n"
                model[key] = value
            case 2:
                let value = "q\(index)"
                request += setRequest(key, Array(value.utf8), noreply: true)
                model[key] = value
            case 3:
                request += Array("get \(key) ctr\r\n".utf8)
                if let value = model[key] { expected += "VALUE \(key) 0 \(value.utf8.count)\r\n\(value)\r\n" }
                expected += "VALUE ctr 0 \(String(counter).utf8.count)\r\n\(counter)\r\nEND\r\n"
            case 4:
                request += Array("delete \(key)\r\n".utf8)
                expected += model.removeValue(forKey: key) == nil ? "NOT_FOUND\r\n" : "DELETED\r\n"
            case 5:
                let delta = generator.next() % 1000
                request += Array("incr ctr \(delta)\r\n".utf8)
                counter += delta
                expected += "\(counter)\r\n"
            default:
                request += Array("touch \(key) 0\r\n".utf8)
                expected += model[key] == nil ? "NOT_FOUND\r\n" : "TOUCHED\r\n"
            }
        }
        request += Array("version\r\n".utf8)
        try withServer { server in
            let client = try server.connect()
            try client.send(request)
            let body = try client.read(count: expected.utf8.count)
            let reply = String(decoding: body, as: UTF8.self)
            if reply != expected {
                let mismatch = zip(reply.utf8, expected.utf8).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
                let from = expected.utf8.index(expected.utf8.startIndex, offsetBy: max(0, mismatch - 80))
                Issue.record("replies differ at byte \(mismatch); expected …\(String(expected[from...].prefix(200)).debugDescription)")
            }
            #expect(try client.read(until: "\r\n").hasPrefix("VERSION "))
        }
    }

    @Test("a 1,000,000-byte value sent in small, paused segments comes back intact")
    func largeValueInSmallSegments() throws {
        let value = payload(1_000_000, seed: 99)
        let request = setRequest("big", value, flags: 3)
        try withServer { server in
            let client = try server.connect(timeout: 30)
            var generator = SplitMix64(seed: 1)
            var offset = 0
            var writes = 0
            while offset < request.count {
                let size = min(request.count - offset, 1 + Int(generator.next() % 1000))
                try client.send(Array(request[offset..<(offset + size)]))
                offset += size
                writes += 1
                if writes % 64 == 0 { usleep(1000) }  // let the server see partial data blocks
            }
            #expect(try client.read(until: "\r\n") == "STORED\r\n")
            try client.send("get big\r\n")
            let reply = try client.readBytes(until: Array("\r\nEND\r\n".utf8))
            #expect(reply == valueReply("big", value, flags: 3))
            // And once more with a fresh connection, pipelined with a small get.
            let second = try server.connect(timeout: 30)
            try second.send("get big\r\nget nothing\r\n")
            #expect(try second.readBytes(until: Array("\r\nEND\r\n".utf8)) == valueReply("big", value, flags: 3))
            #expect(try second.read(until: "END\r\n") == "END\r\n")
        }
    }

    @Test("a value over the item size limit is refused and the connection stays usable")
    func valueTooLarge() throws {
        try withServer { server in
            let client = try server.connect()
            #expect(try client.exchange("set big 0 0 3\r\nold\r\n") == "STORED\r\n")
            // 1 MiB + 1 byte of data can never fit the default 1m item limit.
            try client.send(setRequest("big", payload(1_048_577, seed: 5)))
            #expect(try client.read(until: "\r\n") == "SERVER_ERROR object too large for cache\r\n")
            #expect(try client.exchange("version\r\n").hasPrefix("VERSION "))
            // memcached drops the old value of a key whose set failed this way.
            #expect(try client.exchange("get big\r\n", until: "END\r\n") == "END\r\n")
            #expect(try client.exchange("set small 0 0 2\r\nok\r\n") == "STORED\r\n")
            #expect(try client.stats()["store_too_large"] == "1")
        }
    }

    @Test("a get line longer than 2048 bytes is served")
    func longGetLine() throws {
        try withServer { server in
            let client = try server.connect()
            #expect(try client.exchange("set present 0 0 3\r\nyes\r\n") == "STORED\r\n")
            let keys = (0..<2000).map { "absent-key-\($0)" }
            let line = "get " + keys[..<1000].joined(separator: " ") + " present " + keys[1000...].joined(separator: " ") + "\r\n"
            #expect(line.utf8.count > 20_000)
            // Trickle it in so the server sees more than 2048 bytes without a newline.
            let bytes = Array(line.utf8)
            for start in stride(from: 0, to: bytes.count, by: 3000) {
                try client.send(Array(bytes[start..<min(bytes.count, start + 3000)]))
                usleep(2000)
            }
            #expect(try client.read(until: "END\r\n") == "VALUE present 0 3\r\nyes\r\nEND\r\n")
            #expect(try client.exchange("version\r\n").hasPrefix("VERSION "))
        }
    }

    @Test("flush_all empties the cache")
    func flushAll() throws {
        try withServer { server in
            let client = try server.connect()
            for index in 0..<20 {
                #expect(try client.exchange("set f\(index) 0 0 1\r\n\(index % 10)\r\n") == "STORED\r\n")
            }
            #expect(try client.exchange("flush_all\r\n") == "OK\r\n")
            #expect(try client.exchange("get f0 f1 f19\r\n", until: "END\r\n") == "END\r\n")
            #expect(try client.exchange("set f0 0 0 1\r\nz\r\n") == "STORED\r\n")
            #expect(try client.exchange("get f0\r\n", until: "END\r\n") == "VALUE f0 0 1\r\nz\r\nEND\r\n")
            #expect(try client.stats()["cmd_flush"] == "1")
        }
    }

    @Test("incr and decr: arithmetic, wrap-around, clamping and errors")
    func incrDecr() throws {
        try withServer { server in
            let client = try server.connect()
            #expect(try client.exchange("incr n 1\r\n") == "NOT_FOUND\r\n")
            #expect(try client.exchange("set n 5 0 2\r\n10\r\n") == "STORED\r\n")
            #expect(try client.exchange("incr n 5\r\n") == "15\r\n")
            #expect(try client.exchange("decr n 3\r\n") == "12\r\n")
            #expect(try client.exchange("decr n 100\r\n") == "0\r\n")  // decr clamps at 0
            #expect(try client.exchange("incr n 18446744073709551615\r\n") == "18446744073709551615\r\n")
            #expect(try client.exchange("incr n 2\r\n") == "1\r\n")  // incr wraps around 2^64
            #expect(try client.exchange("set n 5 0 2\r\n99\r\n") == "STORED\r\n")
            #expect(try client.exchange("incr n 1\r\n") == "100\r\n")
            #expect(try client.exchange("get n\r\n", until: "END\r\n") == "VALUE n 5 3\r\n100\r\nEND\r\n")
            #expect(try client.exchange("incr n abc\r\n") == "CLIENT_ERROR invalid numeric delta argument\r\n")
            #expect(try client.exchange("set word 0 0 3\r\nabc\r\n") == "STORED\r\n")
            #expect(try client.exchange("incr word 1\r\n") == "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n")
            try client.send("incr n 1 noreply\r\n")
            #expect(try client.exchange("decr n 1\r\n") == "100\r\n")
            let stats = try client.stats()
            #expect(stats["incr_hits"] == "5")
            #expect(stats["incr_misses"] == "1")
            #expect(stats["decr_hits"] == "3")
        }
    }
}
