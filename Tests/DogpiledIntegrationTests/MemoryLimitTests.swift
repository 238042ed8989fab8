import Foundation
import Testing

/// The memory budget (`-m`) with eviction, and without it (`-M`).
@Suite("Memory limit", .timeLimit(.minutes(1)))
struct MemoryLimitTests {
    @Test("-m 2: storing 5 MB evicts and stays within limit_maxbytes")
    func evictsUnderLimit() throws {
        try withServer(["-m", "2"]) { server in
            let client = try server.connect(timeout: 20)
            var request: [UInt8] = []
            let count = 100
            for index in 0..<count { request += setRequest("m\(index)", payload(50_000, seed: UInt64(index))) }
            try client.send(request)
            for index in 0..<count {
                let reply = try client.read(until: "\r\n")
                guard reply == "STORED\r\n" else {
                    Issue.record("set m\(index): \(reply.debugDescription)")
                    return
                }
            }
            let stats = try client.stats()
            let bytes = Int(stats["bytes"] ?? "") ?? -1
            let limit = Int(stats["limit_maxbytes"] ?? "") ?? -1
            #expect(limit == 2 * 1024 * 1024)
            #expect(bytes > 0 && bytes <= limit, "bytes \(bytes) limit \(limit)")
            #expect((Int(stats["evictions"] ?? "") ?? 0) > 0)
            #expect((Int(stats["curr_items"] ?? "") ?? count) < count)
            // The newest item survived; the oldest was evicted.
            let newest = count - 1
            #expect(try client.exchange("get m\(newest)\r\n", until: "END\r\n") == String(decoding: valueReply("m\(newest)", payload(50_000, seed: UInt64(newest))), as: UTF8.self))
            #expect(try client.exchange("get m0\r\n", until: "END\r\n") == "END\r\n")
        }
    }

    @Test("-M -m 2: once full, sets answer SERVER_ERROR out of memory storing object")
    func noEvictionOutOfMemory() throws {
        try withServer(["-M", "-m", "2"]) { server in
            let client = try server.connect(timeout: 20)
            var firstFailure: Int?
            for index in 0..<100 {
                try client.send(setRequest("n\(index)", payload(50_000, seed: UInt64(index))))
                let reply = try client.read(until: "\r\n")
                if reply == "STORED\r\n" { continue }
                #expect(reply == "SERVER_ERROR out of memory storing object\r\n")
                firstFailure = index
                break
            }
            let failedAt = try #require(firstFailure, "100 x 50 KB all stored under -M -m 2")
            #expect(failedAt > 10, "only \(failedAt) items fit in 2 MB")
            let stats = try client.stats()
            #expect(stats["evictions"] == "0")
            #expect((Int(stats["bytes"] ?? "") ?? .max) <= 2 * 1024 * 1024)
            // Nothing was evicted, and the connection still works.
            #expect(try client.exchange("get n0\r\n", until: "END\r\n").hasPrefix("VALUE n0 0 50000\r\n"))
            #expect(try client.exchange("delete n0\r\n") == "DELETED\r\n")
            #expect(try client.exchange("set small 0 0 2\r\nok\r\n") == "STORED\r\n")
        }
    }
}
