// Caches a slow function through a Region against a running dogpiled.
//
//   dogpiled -p 11211 --region example:memory=16m &
//   swift run CachedFunctionExample [servers]        (default 127.0.0.1:11211)
//
// The first call of each argument runs the slow function (once, however many tasks ask at
// the same time); later calls are answered from the cache until the region's expiration.
import DogpileClient
import Foundation

/// The expensive thing: pretend to ask a slow service for a user's profile.
@Sendable func slowProfile(_ id: Int) async throws -> Profile {
    try await Task.sleep(for: .milliseconds(500))
    return Profile(id: id, name: "user-\(id)", score: id * id)
}

/// What is cached: any `Codable` value (stored as dogpile.cache's JSON format).
struct Profile: Codable, Sendable {
    var id: Int
    var name: String
    var score: Int
}

@main
struct CachedFunctionExample {
    static func main() async throws {
        let servers = CommandLine.arguments.dropFirst().first ?? "127.0.0.1:11211"
        let client = try DogpileClient(servers: servers)
        defer { client.shutdown() }

        // The daemon must declare the region: dogpiled --region example:memory=16m
        let region = try client.region("example", expiration: .seconds(60))
        try await client.checkRegions([region.name])

        let profile = region.cached(namespace: "slowProfile", slowProfile)
        try await profile.invalidate(7)  // start cold, so the first call shows the slow path

        let clock = ContinuousClock()
        let first = try await clock.measure { _ = try await profile(7) }
        print("first call (runs the function):  \(first)")
        let second = try await clock.measure { _ = try await profile(7) }
        print("second call (from the cache):    \(second)")

        // Twenty tasks ask for a value nobody has yet: the function runs once.
        try await profile.invalidate(8)
        let calls = try await clock.measure {
            try await withThrowingTaskGroup(of: Profile.self) { group in
                for _ in 0..<20 { group.addTask { try await profile(8) } }
                for try await result in group { precondition(result.score == 64) }
            }
        }
        print("20 concurrent callers, one computation: \(calls)")
        print("key used: \(region.cacheKey(profile.key(for: 8)))")
    }
}
