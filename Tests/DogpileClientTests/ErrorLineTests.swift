import Foundation
import NIOCore
import Testing
@testable import DogpileClient

#if canImport(Glibc)
import Glibc
#endif

/// Every error line the daemon can give, as the client reports it, and the client's own failures.
@Suite(.serialized) struct ErrorLineTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Lines the public API never sends (it always writes well-formed commands): sent raw.
    @Test func unknownCommandAndBadDataChunk() async throws {
        try await Fleet.with { fleet in
            let daemon = fleet.client.daemons[0]
            let timeout = TimeAmount.seconds(5)
            let unknown = try await daemon.send(RequestEncoder.line("bogus"), timeout: timeout)
            #expect(DogpileClientError.from(unknown, daemon: daemon.name)?.code == .unknownCommand)
            let wrongCount = try await daemon.send(RequestEncoder.line("lockgen", "k"), timeout: timeout)
            #expect(DogpileClientError.from(wrongCount, daemon: daemon.name)?.code == .unknownCommand)
            var badChunk = RequestEncoder.line("set", "k", "0", "0", "2")
            badChunk.writeString("abc\r\n")
            let chunk = try await daemon.send(badChunk, timeout: timeout)
            #expect(chunk == .clientError("bad data chunk"))
            #expect(DogpileClientError.from(chunk, daemon: daemon.name)?.code == .clientError)
        }
    }

    @Test func clientErrorsThroughTheAPI() async throws {
        try await Fleet.with { fleet in
            let client = fleet.client
            // lease_ms above 3,600,000: CLIENT_ERROR bad command line format.
            let error = await expectError(.clientError) { try await client.lockgen("k", lease: .seconds(3601)) }
            #expect(error?.message == "CLIENT_ERROR bad command line format")
            #expect(error?.daemon == fleet.daemons[0].address)
            try await client.set("text", Self.bytes("abc"))
            await expectError(.clientError) { try await client.increment("text") }
            // The client refuses keys memcached cannot carry before sending anything.
            await expectError(.invalidArgument) { try await client.get("has space") }
            await expectError(.invalidArgument) { try await client.set(String(repeating: "k", count: 251), []) }
            await expectError(.invalidArgument) { try client.region("bad:name") }
            // The connection is still in step after those errors.
            #expect(try await client.get("text")?.string == "abc")
        }
    }

    @Test func objectTooLargeAndOutOfMemory() async throws {
        try await Fleet.with(arguments: ["-M", "-m", "2"], regions: false) { fleet in
            let client = fleet.client
            let tooLarge = await expectError(.serverError) { try await client.set("big", [UInt8](repeating: 1, count: 2 << 20)) }
            #expect(tooLarge?.message.contains("object too large") == true)
            var outOfMemory: DogpileClientError?
            for index in 0..<200 {
                do {
                    try await client.set("fill-\(index)", [UInt8](repeating: 2, count: 50_000))
                } catch let error as DogpileClientError {
                    outOfMemory = error
                    break
                }
            }
            #expect(outOfMemory?.code == .outOfMemory, "\(String(describing: outOfMemory))")
        }
    }

    @Test func tooManyLocks() async throws {
        try await Fleet.with(arguments: ["--max-locks", "1"]) { fleet in
            let client = fleet.client
            let hold = try await client.lock("first", lease: .seconds(5), wait: .zero)
            await expectError(.tooManyLocks) { try await client.lock("second", lease: .seconds(5), wait: .zero) }
            await expectError(.tooManyLocks) { try await client.lockgen("key", lease: .seconds(5), wait: .zero) }
            #expect(try await hold.unlock())
            let next = try await client.lock("second", lease: .seconds(5), wait: .zero)
            #expect(try await next.unlock())
        }
    }

    @Test func shuttingDownAnswersAParkedWaiter() async throws {
        let daemon = try await DaemonProcess.start(Fleet.regionArguments)
        defer { daemon.stop() }
        let client = try DogpileClient(servers: daemon.address)
        defer { client.shutdown() }
        guard case .generate(let lease) = try await client.lockgen("k", wait: .zero) else {
            Issue.record("no lease")
            return
        }
        async let parked = client.lockgen("k", wait: .seconds(20))
        try await waitForWaiters(client, "generation_waiters", count: 1)
        kill(daemon.pid, SIGTERM)
        do {
            _ = try await parked
            Issue.record("the parked waiter was answered, not told the daemon is shutting down")
        } catch let error as DogpileClientError {
            #expect(error.code == .shuttingDown, "\(error)")
        }
        _ = lease
    }

    @Test func notOwnerAndBusy() async throws {
        try await Fleet.with { fleet in
            let client = fleet.client
            #expect(try await client.unlockgen("k", token: 12345) == false)
            #expect(try await client.setgen("k", token: 12345, Self.bytes("v")) == false)
            #expect(try await client.unlock("m", token: 12345) == false)
            #expect(try await client.renew("m", token: 12345, lease: .seconds(1)) == false)
            let hold = try await client.lock("m", lease: .seconds(5))
            let start = ContinuousClock.now
            await expectError(.busy) { try await client.lock("m", wait: .milliseconds(200)) }
            print("lock BUSY after a 200 ms wait: \(milliseconds(since: start)) ms")
            #expect(try await hold.unlock())
            await expectError(.notOwner) { try await hold.unlock() }
        }
    }

    @Test func timeoutWhenTheDaemonNeverAnswers() async throws {
        // A socket that listens (the kernel completes connects) but never reads or answers.
        let port = try DaemonProcess.freePort()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(listener, 16) == 0)
        var configuration = DogpileClient.Configuration(servers: [ServerAddress(host: "127.0.0.1", port: port)])
        configuration.requestTimeout = .milliseconds(300)
        configuration.waitMargin = .milliseconds(200)
        let client = try DogpileClient(configuration: configuration)
        defer { client.shutdown() }
        let start = ContinuousClock.now
        let error = await expectError(.timeout) { try await client.set("k", Self.bytes("v")) }
        #expect(error?.daemon == "127.0.0.1:\(port)")
        // A waiting request's timeout is its wait plus the margin.
        await expectError(.timeout) { try await client.lockgen("k", wait: .milliseconds(100)) }
        print("timeouts (300 ms request, 100+200 ms lockgen): \(milliseconds(since: start)) ms")
    }
}
