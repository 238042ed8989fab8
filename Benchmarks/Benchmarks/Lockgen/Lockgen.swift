import Benchmark
import BenchmarkFixtures
import CacheStore
import Coordination

/// `lockgen` and `setgen` parsed and executed as `Connection+Locking.swift` runs them, replies
/// aside. One operation is one `lockgen` HIT, or one whole regeneration (GEN, then setgen, then
/// the delete that makes the next round miss again). Expected: a HIT allocates nothing.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .wallClock, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        thresholds: [.mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 20])]
    )

    // The server answers a fresh value from the store alone: no lock key, no lock table.
    Benchmark("lockgen-HIT", closure: { (benchmark: Benchmark, round: GenerationRound) in
        var hits = 0
        for _ in benchmark.scaledIterations {
            if round.lockgen(as: round.holder) == nil { hits += 1 }   // nil: HIT from the store alone
        }
        precondition(hits == benchmark.scaledIterations.count, "every lockgen must be a HIT")
    }, setup: {
        let round = GenerationRound(layers: ServerLayers(), key: "user:1")
        guard case .generate(let token, _)? = round.lockgen(as: round.holder), round.setgen(token: token) == true else {
            fatalError("could not store the value to hit")
        }
        return round
    })

    Benchmark("lockgen-GEN-then-setgen", closure: { (benchmark: Benchmark, round: GenerationRound) in
        for _ in benchmark.scaledIterations {
            guard case .generate(let token, _)? = round.lockgen(as: round.holder) else { fatalError("expected GEN") }
            guard round.setgen(token: token) == true else { fatalError("expected STORED") }
            round.forget()
        }
    }, setup: {
        GenerationRound(layers: ServerLayers(), key: "user:1")
    })
}
