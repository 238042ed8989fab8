// swift-tools-version:6.0
// dogpiled: a memcached-compatible cache daemon with server-side dogpile locks.
import PackageDescription

let package = Package(
    name: "dogpiled",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dogpiled", targets: ["dogpiled"]),
        .library(name: "MemcacheProtocol", targets: ["MemcacheProtocol"]),
        .library(name: "CacheStore", targets: ["CacheStore"]),
        .library(name: "Dogpile", targets: ["Dogpile"]),
        // The lock table, for the in-process benchmarks in Benchmarks/ (their own package).
        .library(name: "Coordination", targets: ["Coordination"]),
        // The Swift client: memcached commands, lock verbs, a ketama ring and a Region API.
        .library(name: "DogpileClient", targets: ["DogpileClient"]),
        .executable(name: "dogpiled-client-probe", targets: ["dogpiled-client-probe"]),
        .executable(name: "CachedFunctionExample", targets: ["CachedFunctionExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // The client only (DogpileClient); the daemon's targets never import NIO.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The client's TLS (daemons started with -Z); the daemon itself uses Debian's OpenSSL.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // libevent, as Debian packages it (libevent-dev).
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent_pthreads",
            providers: [.apt(["libevent-dev"])]
        ),
        // OpenSSL, as Debian packages it (libssl-dev): the daemon's TLS (-Z).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Bytes in, commands out; replies out as bytes. No I/O, no Foundation.
        .target(name: "MemcacheProtocol"),
        // Items, the sharded hash table, LRU, memory budget, expiry, CAS (and the early-recompute
        // test from Dogpile, decided under the shard lock).
        .target(name: "CacheStore", dependencies: ["Dogpile"]),
        // The seed's in-process primitives (Lock, NameRegistry, ReadWriteMutex) and the pure
        // dogpile decision table that the daemon's lockgen uses too.
        .target(name: "Dogpile"),
        // Generation leases per key, the named mutex table, waiters, fencing tokens.
        .target(name: "Coordination", dependencies: ["Dogpile"]),
        // The Swift face of libevent: event bases, listeners, connections, wakeups; and the TLS
        // transport (OpenSSL over the same non-blocking sockets and buffers).
        .target(name: "EventLoop", dependencies: ["CLibevent", "COpenSSL"]),
        // The settings table (flag, config key, type, range, unit, live or restart) and the
        // ServerConfiguration it fills: read by the flags, the config file, --check-config and
        // the reload planner. Below the server, so configuration code does not need the server.
        .target(name: "DogpiledSettings", dependencies: ["CacheStore"]),
        // Connections, command execution, stats: glues the layers above together.
        .target(
            name: "DogpiledServer",
            dependencies: [
                "EventLoop", "MemcacheProtocol", "CacheStore", "Coordination", "DogpiledSettings",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The config file (TOML): schema check with line numbers, precedence under the flags.
        // Its own small TOML reader, no Foundation: what the daemon links stays resident.
        .target(name: "DogpiledConfiguration", dependencies: ["DogpiledSettings", "CacheStore"]),
        .executableTarget(
            name: "dogpiled",
            dependencies: [
                "DogpiledServer", "DogpiledConfiguration", "DogpiledSettings", "EventLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Swift client library (swift-nio). Its ReplyDecoder is sans-I/O and fuzzable alone.
        .target(
            name: "DogpileClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Used by the cross-language tests: ring choice, set/get, and a stampede from one process.
        .executableTarget(
            name: "dogpiled-client-probe",
            dependencies: ["DogpileClient"],
            path: "Examples/dogpiled-client-probe"
        ),
        // Caches a slow function through a Region against a running dogpiled.
        .executableTarget(
            name: "CachedFunctionExample",
            dependencies: ["DogpileClient"],
            path: "Examples/CachedFunctionExample"
        ),
        .testTarget(name: "MemcacheProtocolTests", dependencies: ["MemcacheProtocol", "Dogpile"]),
        .testTarget(name: "CacheStoreTests", dependencies: ["CacheStore", "MemcacheProtocol", "Dogpile"]),
        .testTarget(name: "DogpileTests", dependencies: ["Dogpile"]),
        .testTarget(name: "CoordinationTests", dependencies: ["Coordination"]),
        .testTarget(name: "DogpiledSettingsTests", dependencies: ["DogpiledSettings"]),
        .testTarget(name: "DogpiledConfigurationTests", dependencies: ["DogpiledConfiguration", "DogpiledSettings"]),
        // The connection's state machine, input buffers and socket options, without the daemon.
        .testTarget(name: "DogpiledServerTests", dependencies: ["DogpiledServer", "EventLoop"]),
        .testTarget(name: "DogpiledIntegrationTests", dependencies: ["dogpiled", "Dogpile"]),
        // Unit tests (decoder, ring, keys, values) and tests against the real dogpiled binary.
        .testTarget(
            name: "DogpileClientTests",
            dependencies: ["DogpileClient", "dogpiled", "Dogpile"]
        ),
    ]
)
