import Benchmark
import BenchmarkFixtures
import MemcacheProtocol

/// `TextParser` alone, over a connection's worth of pipelined input: one operation is one
/// request decoded (a `get`, a `set` with its data block, an `mg`, a `lockgen`, in turn).
/// Expected: no allocation at all (the parser's spans point into the caller's buffer).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .wallClock, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        thresholds: [.mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 20])]
    )

    let input = RequestBuffer(
        "get user:1\r\n"
            + "set user:1 0 0 5\r\nhello\r\n"
            + "mg user:1 v f t c\r\n"
            + "lockgen user:1 30000\r\n"
    )

    Benchmark("pipelined-get-set-mg-lockgen") { benchmark in
        var parser = TextParser()
        var offset = 0
        for _ in benchmark.scaledIterations {
            guard case .command(let command, let consumed) = parser.parse(input.remaining(from: offset)) else {
                fatalError("the parser did not return a whole request")
            }
            blackHole(command)
            offset += consumed
            if offset == input.bytes.count { offset = 0 }
        }
    }
}
