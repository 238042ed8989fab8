import Foundation
import Testing

/// The bounds on what administrative commands make the server hold: a metadump to a client
/// that does not read, `stats cachedump`'s reply, `stats detail`'s prefix table.
@Suite("Administrative command bounds", .timeLimit(.minutes(2)))
struct AdminBoundsTests {
    /// Stores `count` items with keys `<prefix><n>` and 100-byte values, pipelined.
    private func fill(_ client: TestClient, count: Int, prefix: (Int) -> String) throws {
        let value = String(repeating: "v", count: 100)
        for start in stride(from: 0, to: count, by: 5000) {
            var request = ""
            for index in start..<min(count, start + 5000) { request += "set \(prefix(index)) 0 0 100 noreply\r\n\(value)\r\n" }
            try client.send(request)
        }
        #expect(try client.exchange("version\r\n").hasPrefix("VERSION"))
    }

    @Test("a metadump of 300000 items to a client that does not read queues about the 4 MB high-water, then completes")
    func metadumpIsWrittenInSlices() throws {
        try withServer(["-m", "256"]) { server in
            let loader = try server.connect(timeout: 60)
            try fill(loader, count: 300_000) { "key-number-\($0)" }
            let slow = try server.connect(timeout: 60)
            try slow.send("lru_crawler metadump all\r\n")
            // The whole listing is about 30 MB, more than the socket buffers take; unread, the
            // server holds only a slice of it (the kernel holds the rest).
            var highest = 0
            for _ in 0..<75 {
                usleep(20_000)
                let stats = try loader.stats()
                highest = max(highest, Int(stats["output_buffer_bytes"] ?? "0") ?? 0)
            }
            #expect(highest > 0, "the dump did not start")
            #expect(highest < 6 << 20, "queued \(highest) bytes for an unread metadump")
            let listing = try slow.readBytes(until: Array("END\r\n".utf8))
            let lines = listing.split(separator: UInt8(ascii: "\n")).count - 1
            #expect(lines == 300_000)
        }
    }

    @Test("stats cachedump stays under 2 MB however many items the class holds")
    func cachedumpIsBounded() throws {
        try withServer(["-m", "128"]) { server in
            let client = try server.connect(timeout: 60)
            try fill(client, count: 90_000) { "cachedump-key-\(10_000 + $0)" }
            // Every key has the same length, so every item is in the class `me` names.
            let debug = try client.exchange("me cachedump-key-10000\r\n")
            let id = try #require(debug.split(separator: " ").first { $0.hasPrefix("cls=") }?.dropFirst(4))
            let reply = try client.exchange("stats cachedump \(id) 0\r\n", until: "END\r\n")
            #expect(reply.utf8.count <= 2 * 1024 * 1024 && reply.utf8.count > 1024 * 1024, "\(reply.utf8.count) bytes")
            #expect(try client.exchange("stats cachedump \(id) 5\r\n", until: "END\r\n").split(separator: "\r\n").count == 6)
        }
    }

    @Test("stats detail tracks at most 65536 prefixes")
    func prefixTableIsBounded() throws {
        try withServer(["-D", ":"]) { server in
            let client = try server.connect(timeout: 60)
            var request = ""
            for index in 0..<70_000 { request += "delete p\(index):k noreply\r\n" }
            try client.send(request)
            #expect(try client.exchange("version\r\n").hasPrefix("VERSION"))
            let dump = try client.exchange("stats detail dump\r\n", until: "END\r\n")
            #expect(dump.split(separator: "\r\n").count == 65_536 + 1)
        }
    }
}
