import Benchmark
import BenchmarkFixtures
import CacheStore
import MemcacheProtocol

/// Parse and execute, as the connection does (`Connection+Commands.swift`): the region lookup,
/// then the store call; replies are the server's and are not built here. One operation is one
/// request. Expected: a get hit allocates nothing, a set at most once (its new item).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .wallClock, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        thresholds: [.mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 20])]
    )

    Benchmark("get-hit", closure: { (benchmark: Benchmark, prepared: PreparedRequest) in
        let (layers, input) = (prepared.layers, prepared.input)
        var parser = TextParser(limits: layers.limits)
        var hits = 0
        for _ in benchmark.scaledIterations {
            guard case .command(let command, _) = parser.parse(input.bytes) else { fatalError("no request") }
            hits += execute(command, input.bytes, layers)
        }
        precondition(hits == benchmark.scaledIterations.count, "every get must hit")
    }, setup: {
        let layers = ServerLayers()
        let value = RequestBuffer("set user:1 0 0 5\r\nhello\r\n")
        execute(value.firstCommand(), value.bytes, layers)
        return PreparedRequest(layers: layers, input: RequestBuffer("get user:1\r\n"))
    })

    Benchmark("set-existing-key", closure: { (benchmark: Benchmark, prepared: PreparedRequest) in
        let (layers, input) = (prepared.layers, prepared.input)
        var parser = TextParser(limits: layers.limits)
        for _ in benchmark.scaledIterations {
            guard case .command(let command, _) = parser.parse(input.bytes) else { fatalError("no request") }
            execute(command, input.bytes, layers)
        }
    }, setup: {
        let layers = ServerLayers()
        let value = RequestBuffer("set user:1 0 0 5\r\nhello\r\n")
        execute(value.firstCommand(), value.bytes, layers)
        return PreparedRequest(layers: layers, input: value)
    })

    // A new key on every set, into a cache that is already full: each set links one item and
    // evicts the least recently used one (a cache's steady state; the table never grows).
    Benchmark("set-new-key-evicting", closure: { (benchmark: Benchmark, keys: NewKeyRequests) in
        var parser = TextParser(limits: keys.layers.limits)
        for _ in benchmark.scaledIterations {
            keys.advance()
            guard case .command(let command, _) = parser.parse(keys.input.bytes) else { fatalError("no request") }
            execute(command, keys.input.bytes, keys.layers)
        }
    }, setup: {
        let keys = NewKeyRequests(layers: ServerLayers(memoryLimit: 4 * 1024 * 1024))
        // Fill the 4 MiB first (about 40,000 of these items fit), so that evictions are running.
        for _ in 0..<100_000 {
            keys.advance()
            execute(keys.input.firstCommand(), keys.input.bytes, keys.layers)
        }
        precondition(keys.layers.regions.defaultRegion.store.statistics().evictions > 0, "the store must be full")
        return keys
    })
}

/// Runs a parsed `get` or `set` against the layers as the server does; returns the number of
/// hits (a get) or 1 for a stored value.
@discardableResult @inline(__always)
func execute(_ command: Command, _ buffer: UnsafeRawBufferPointer, _ layers: ServerLayers) -> Int {
    switch command {
    case .retrieval(let request):
        var hits = 0
        for keySpan in request.keys(in: buffer) {
            let keyBytes = keySpan.bytes(in: buffer)
            let region = layers.regions.region(for: keyBytes)
            // As the server does: the reply is written under the shard lock, no reference taken.
            if region.store.read(keyBytes, { item in blackHole(item.valueLength) }) { hits += 1 }
        }
        return hits
    case .storage(let request):
        let keyBytes = request.key.bytes(in: buffer)
        let region = layers.regions.region(for: keyBytes)
        let (outcome, item) = region.store.storeReturningItem(
            .set, key: keyBytes, flags: request.flags,
            exptime: layers.clock.expiry(fromProtocol: region.effectiveExptime(request.exptime)),
            value: request.data.bytes(in: buffer))
        guard outcome == .stored, let item else { fatalError("the set was not stored") }
        // Any store ends a generation lease: with no lease anywhere this is one atomic load
        // (and the value for waiters is made only when there are some).
        layers.leases.valueStored(keyBytes) { HeldItem(item) }
        item.release()
        return 1
    default:
        fatalError("only get and set are benchmarked here")
    }
}
