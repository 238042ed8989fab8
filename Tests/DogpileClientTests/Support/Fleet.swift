import DogpileClient
import Foundation
import Testing

/// Daemons for one test, and a client over them; always stopped afterwards.
struct Fleet {
    let daemons: [DaemonProcess]
    let client: DogpileClient

    /// The region every test daemon declares (with a short stale_ttl-free default).
    static let regionArguments = ["--region", "user:memory=8m", "--region", "fn:memory=4m"]

    /// `count` daemons started with `arguments` (plus the test regions unless `regions` is false) and a client with `configure` applied.
    static func with<T>(
        _ count: Int = 1, arguments: [String] = [], regions: Bool = true, weights: [Int]? = nil,
        configure: (inout DogpileClient.Configuration) -> Void = { _ in },
        _ body: (Fleet) async throws -> T
    ) async throws -> T {
        var daemons: [DaemonProcess] = []
        defer { for daemon in daemons { daemon.stop() } }
        for _ in 0..<count { daemons.append(try await DaemonProcess.start((regions ? regionArguments : []) + arguments)) }
        let servers = daemons.enumerated().map { index, daemon in
            ServerAddress(host: "127.0.0.1", port: daemon.port, weight: weights?[index] ?? 1)
        }
        var configuration = DogpileClient.Configuration(servers: servers)
        configure(&configuration)
        let client = try DogpileClient(configuration: configuration)
        defer { client.shutdown() }
        return try await body(Fleet(daemons: daemons, client: client))
    }

    /// A client on one daemon only (to see what that daemon really holds).
    func direct(_ index: Int) throws -> DogpileClient {
        try DogpileClient(servers: "127.0.0.1:\(daemons[index].port)")
    }
}

/// Elapsed milliseconds since `start`, for printed timings.
func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

/// Counts creator calls across tasks.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Expects `body` to throw a ``DogpileClientError`` with `code`; returns it.
@discardableResult
func expectError<T>(_ code: DogpileClientError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () async throws -> T) async -> DogpileClientError? {
    do {
        let value = try await body()
        Issue.record("expected \(code), got \(value)", sourceLocation: sourceLocation)
    } catch let error as DogpileClientError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Polls `stats locks` until `field` (e.g. `generation_waiters`) reaches `count` on the daemons (5 s).
func waitForWaiters(_ client: DogpileClient, _ field: String, count: Int,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while ContinuousClock.now < deadline {
        let stats = try await client.stats("locks")
        let total = stats.values.flatMap { $0 }.filter { $0.name == field }.compactMap { Int($0.value) }.reduce(0, +)
        if total >= count { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("\(field) never reached \(count)", sourceLocation: sourceLocation)
}
