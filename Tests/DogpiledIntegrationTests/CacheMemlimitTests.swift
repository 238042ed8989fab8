import Foundation
import Testing

/// `cache_memlimit`: a live resize that evicts down to the new limit at once, and its refusals.
@Suite("cache_memlimit", .timeLimit(.minutes(1)))
struct CacheMemlimitTests {
    private func fill(_ client: TestClient, count: Int, size: Int) throws {
        var request: [UInt8] = []
        for index in 0..<count { request += setRequest("c\(index)", payload(size, seed: UInt64(index))) }
        try client.send(request)
        for index in 0..<count {
            let reply = try client.read(until: "\r\n")
            try #require(reply == "STORED\r\n", "set c\(index): \(reply.debugDescription)")
        }
    }

    @Test("shrinking from 64 MB to 8 MB evicts the oldest items at once; limit_maxbytes follows")
    func shrinkEvicts() throws {
        try withServer(["-m", "64"]) { server in
            let client = try server.connect(timeout: 20)
            try fill(client, count: 400, size: 100_000)  // about 40 MB
            let before = try client.stats()
            #expect(before["evictions"] == "0")
            #expect(try client.exchange("cache_memlimit 8\r\n") == "OK\r\n")
            let after = try client.stats()
            let bytes = Int(after["bytes"] ?? "") ?? -1
            #expect(after["limit_maxbytes"] == String(8 << 20))
            #expect(bytes > 0 && bytes <= 8 << 20, "bytes \(bytes) after shrinking to 8 MB")
            #expect((Int(after["evictions"] ?? "") ?? 0) > 300)
            let settings = try client.stats("settings")
            #expect(settings["maxbytes"] == String(8 << 20))
            // Least recently used first: the newest item stayed, the oldest went.
            #expect(try client.exchange("get c399\r\n", until: "END\r\n").hasPrefix("VALUE c399 0 100000\r\n"))
            #expect(try client.exchange("get c0\r\n", until: "END\r\n") == "END\r\n")
            // Growing again gives the room back: 20 more items fit without evicting.
            #expect(try client.exchange("cache_memlimit 64 noreply\r\nversion\r\n").hasPrefix("VERSION "))
            let evictions = try client.stats()["evictions"]
            try fill(client, count: 20, size: 100_000)
            #expect(try client.stats()["evictions"] == evictions)
        }
    }

    @Test("below the declared region budgets the limit is refused and nothing changes")
    func refusedBelowRegionBudgets() throws {
        try withServer(["-m", "64", "--region", "big:memory=40m"]) { server in
            let client = try server.connect(timeout: 20)
            #expect(try client.exchange("cache_memlimit 40\r\n") == "CLIENT_ERROR cache_memlimit below the region budgets (41m at least)\r\n")
            #expect(try client.exchange("cache_memlimit 8\r\n") == "CLIENT_ERROR cache_memlimit below the region budgets (41m at least)\r\n")
            #expect(try client.stats()["limit_maxbytes"] == String(64 << 20))
            #expect(try client.exchange("cache_memlimit 41\r\n") == "OK\r\n")
            #expect(try client.stats()["limit_maxbytes"] == String(41 << 20))
            // memcached's own checks come first.
            #expect(try client.exchange("cache_memlimit 7\r\n") == "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n")
            #expect(try client.exchange("cache_memlimit 1000000001\r\n") == "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n")
            #expect(try client.exchange("cache_memlimit x\r\n") == "ERROR\r\n")
        }
    }
}
