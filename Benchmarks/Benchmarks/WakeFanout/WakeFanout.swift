import Benchmark
import BenchmarkFixtures
import CacheStore
import Coordination
import Synchronization

/// One `setgen` answering N `lockgen` requests parked on the same key (N = 1, 100): the lease
/// table's side of a wake fan-out, up to the wake sink (the server's mailboxes are not here).
/// Each sample parks N fresh waiters first, outside the measurement; one operation is one
/// fan-out, so the counts are per store, not per waiter.
let benchmarks: @Sendable () -> Void = {
    for waiters in [1, 100] {
        Benchmark(
            waiters == 1 ? "wake-1-waiter" : "wake-\(waiters)-waiters",
            configuration: .init(
                metrics: [.mallocCountTotal, .wallClock, .throughput],
                scalingFactor: .one,
                maxDuration: .seconds(1),
                thresholds: [.mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 0])]
            ),
            closure: { (benchmark: Benchmark, round: GenerationRound) in
                guard case .generate(let token, _)? = round.lockgen(as: round.holder) else { fatalError("expected GEN") }
                for connection in 0..<UInt64(waiters) {
                    guard case .parked? = round.lockgen(as: Requester(worker: 1, connection: 100 + connection)) else {
                        fatalError("expected the waiter to park")
                    }
                }
                let before = round.layers.sink.delivered.load(ordering: .relaxed)
                benchmark.startMeasurement()
                let stored = round.setgen(token: token)
                benchmark.stopMeasurement()
                guard stored == true, round.layers.sink.delivered.load(ordering: .relaxed) - before == waiters else {
                    fatalError("the store did not wake every waiter")
                }
                round.forget()
            },
            setup: { GenerationRound(layers: ServerLayers(), key: "user:1") }
        )
    }
}
