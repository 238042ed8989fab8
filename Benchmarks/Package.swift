// swift-tools-version: 6.1
// In-process benchmarks of dogpiled's library layers (package-benchmark), kept apart from the
// daemon's package: the framework needs a newer tools version and its malloc-interposer trait.
import PackageDescription

/// The framework's product and its build plugin, shared by every benchmark target.
let benchmarkDependency: Target.Dependency = .product(name: "Benchmark", package: "benchmark")
let benchmarkPlugin: Target.PluginUsage = .plugin(name: "BenchmarkPlugin", package: "benchmark")

let package = Package(
    name: "DogpiledBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The daemon's package: its MemcacheProtocol, CacheStore and Coordination products.
        .package(name: "dogpiled", path: ".."),
        // MallocInterposer counts every malloc in-process (this machine has no instruction counters).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // What the benchmarks share: the server's layers as ServerState builds them, request
        // buffers allocated once, and a wake sink that counts.
        .target(
            name: "BenchmarkFixtures",
            dependencies: [
                .product(name: "MemcacheProtocol", package: "dogpiled"),
                .product(name: "CacheStore", package: "dogpiled"),
                .product(name: "Coordination", package: "dogpiled"),
                .product(name: "Dogpile", package: "dogpiled"),
            ]
        ),
        // TextParser on a pipelined buffer of get, set, mg and lockgen lines.
        benchmark("Parse"),
        // Parse and execute get hit, set of an existing key, set of a new key (RegionSet, Store).
        benchmark("Store"),
        // lockgen HIT, GEN + setgen, as Connection+Locking runs them (Store, LeaseTable).
        benchmark("Lockgen"),
        // One store waking N parked lockgen waiters on one key (N = 1, 100).
        benchmark("WakeFanout"),
    ]
)

/// A benchmark executable: `Benchmarks/<name>/<name>.swift`, the layout package-benchmark expects.
@MainActor func benchmark(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            benchmarkDependency, "BenchmarkFixtures",
            .product(name: "MemcacheProtocol", package: "dogpiled"),
            .product(name: "CacheStore", package: "dogpiled"),
            .product(name: "Coordination", package: "dogpiled"),
        ],
        path: "Benchmarks/\(name)",
        plugins: [benchmarkPlugin]
    )
}
