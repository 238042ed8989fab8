// dogpiled-client-probe: the Swift client as the cross-language tests drive it (public API only).
//
//   dogpiled-client-probe where --servers H:P:W,... KEY...
//       KEY<TAB>host:port per key: where the ring puts it (no network)
//   dogpiled-client-probe set --servers ... --region R KEY JSON
//   dogpiled-client-probe get --servers ... --region R KEY        (exit 1 on a miss)
//       through the Region API and the shared value format; prints the JSON payload
//   dogpiled-client-probe stampede --servers ... --region R --key K --tasks N --creator-ms 200
//                                  --lease-ms 30000 --counter-file PATH
//                                  [--wait-ms 5000] [--deadline-ms 30000] [--expiration 300]
//                                  [--value TEXT] [--wait-go yes]
//       N tasks call region.getOrCreate(K) at once; the creator appends a line "swift <pid>" to
//       PATH (O_APPEND) and sleeps, then returns TEXT (default "swift-<pid>-<time>"); prints one
//       JSON line: creator_calls (here), answered, distinct_values, p50_ms/p99_ms (each caller's
//       latency), sources (hit/stale/created...), stored_at (wall clock when this process's
//       creator returned, or null), answered_at (every caller's wall clock answer time).
//       With --wait-go yes it checks the region (connecting first), prints "ready" and waits for
//       a line on stdin before starting, like the Python stampede worker.
import DogpileClient
import Foundation

#if canImport(Glibc)
import Glibc
#endif

@main
struct Probe {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty else { fail("usage: dogpiled-client-probe where|set|get|stampede --servers ... [options] [args]") }
        let command = arguments.removeFirst()
        var options: [String: String] = [:]
        var positional: [String] = []
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            if argument.hasPrefix("--") {
                guard !arguments.isEmpty else { fail("\(argument) needs a value") }
                options[String(argument.dropFirst(2))] = arguments.removeFirst()
            } else {
                positional.append(argument)
            }
        }
        do {
            guard let servers = options["servers"] else { fail("--servers is required") }
            switch command {
            case "where":
                let ring = HashRing(servers: try ServerAddress.parseList(servers))
                var output = ""
                for key in positional { output += "\(key)\t\(ring.server(for: key)!.name)\n" }
                FileHandle.standardOutput.write(Data(output.utf8))
            case "set", "get":
                let client = try DogpileClient(servers: servers)
                defer { client.shutdown() }
                let region = try client.region(required(options, "region"))
                guard let key = positional.first else { fail("\(command) needs a key") }
                if command == "set" {
                    guard positional.count == 2 else { fail("set needs a key and a JSON value") }
                    let value = try JSONDecoder().decode(JSONValue.self, from: Data(positional[1].utf8))
                    try await region.set(key, value)
                    print(try value.json())
                } else {
                    guard let value = try await region.get(key, as: JSONValue.self) else {
                        FileHandle.standardError.write(Data("miss\n".utf8))
                        exit(1)
                    }
                    print(try value.json())
                }
            case "stampede":
                try await stampede(servers: servers, options: options)
            default:
                fail("unknown command \(command)")
            }
        } catch {
            fail("error: \(error)")
        }
    }

    static func stampede(servers: String, options: [String: String]) async throws {
        let client = try DogpileClient(servers: servers)
        defer { client.shutdown() }
        var configured = try client.region(try required(options, "region"))
        let key = try required(options, "key")
        let tasks = Int(options["tasks"] ?? "50") ?? 50
        let creatorMilliseconds = Int(options["creator-ms"] ?? "200") ?? 200
        configured.lease = .milliseconds(Int(options["lease-ms"] ?? "30000") ?? 30000)
        configured.wait = .milliseconds(Int(options["wait-ms"] ?? "5000") ?? 5000)
        configured.busyDeadline = .milliseconds(Int(options["deadline-ms"] ?? "30000") ?? 30000)
        configured.expiration = .seconds(Int(options["expiration"] ?? "300") ?? 300)
        let region = configured
        let counterFile = options["counter-file"]
        let fixedValue = options["value"]
        if options["wait-go"] == "yes" {
            try await client.checkRegions([region.name])
            FileHandle.standardOutput.write(Data("ready\n".utf8))
            _ = readLine()
        }
        let calls = Counter()
        let storedAt = Counter()
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: (String, Double, String, Double).self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    let began = ContinuousClock.now
                    let result = try await region.getOrCreateResult(key, as: String.self) {
                        calls.increment()
                        if let counterFile {
                            let descriptor = open(counterFile, O_WRONLY | O_APPEND | O_CREAT, 0o644)
                            let line = Array("swift \(getpid())\n".utf8)
                            _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                            close(descriptor)
                        }
                        try await Task.sleep(for: .milliseconds(creatorMilliseconds))
                        return fixedValue ?? "swift-\(getpid())-\(Date().timeIntervalSince1970)"
                    }
                    let now = Date().timeIntervalSince1970
                    if result.source == .created { storedAt.record(now) }
                    return (result.value, milliseconds(since: began), "\(result.source)", now)
                }
            }
            var all: [(String, Double, String, Double)] = []
            for try await result in group { all.append(result) }
            return all
        }
        // Let creators running in the background finish before this process exits (an exit
        // mid-regeneration drops the lease, and another process regenerates again).
        await client.waitForBackgroundRegenerations()
        let latencies = results.map(\.1).sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int((Double(latencies.count - 1) * p).rounded()))]
        }
        var sources: [String: Int] = [:]
        for result in results { sources[result.2, default: 0] += 1 }
        let summary: [String: Any] = [
            "pid": Int(getpid()),
            "creator_calls": calls.value,
            "answered": results.count,
            "distinct_values": Set(results.map(\.0)).count,
            "values": Array(Set(results.map(\.0))).sorted(),
            "p50_ms": (percentile(0.5) * 100).rounded() / 100,
            "p99_ms": (percentile(0.99) * 100).rounded() / 100,
            "total_ms": milliseconds(since: start),
            "sources": sources,
            "stored_at": storedAt.recorded.map { $0 as Any } ?? NSNull(),
            "answered_at": results.map(\.3).sorted(),
        ]
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    static func required(_ options: [String: String], _ name: String) throws -> String {
        guard let value = options[name] else { fail("--\(name) is required") }
        return value
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}

/// A thread-safe counter of creator calls (and a time recorded once).
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var time: Double?
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
    func record(_ value: Double) { lock.lock(); time = time ?? value; lock.unlock() }
    var recorded: Double? { lock.lock(); defer { lock.unlock() }; return time }
}
