import Dogpile
import Testing

@Suite struct EarlyRecomputeTests {
    @Test func offWhenBetaOrDeltaIsZero() {
        #expect(!EarlyRecompute.shouldRecompute(now: 999, expiry: 1000, delta: 50, beta: 0, uniform: 1e-9))
        #expect(!EarlyRecompute.shouldRecompute(now: 999, expiry: 1000, delta: 0, beta: 1, uniform: 1e-9))
    }

    @Test func alwaysAtOrPastExpiry() {
        #expect(EarlyRecompute.shouldRecompute(now: 1000, expiry: 1000, delta: 50, beta: 1, uniform: 1))
    }

    @Test func thresholdIsTheFormula() {
        // remaining 50 ms, Δ·β = 50 ms: triggers exactly when −ln(u) ≥ 1, i.e. u ≤ 1/e.
        let edge = 0.36787944117144233
        #expect(EarlyRecompute.shouldRecompute(now: 950, expiry: 1000, delta: 50, beta: 1, uniform: edge - 1e-9))
        #expect(!EarlyRecompute.shouldRecompute(now: 950, expiry: 1000, delta: 50, beta: 1, uniform: edge + 1e-9))
        // β scales the window: with β = 2 the same u triggers 100 ms out.
        #expect(EarlyRecompute.shouldRecompute(now: 900, expiry: 1000, delta: 50, beta: 2, uniform: edge - 1e-9))
    }

    /// The empirical trigger rate over many draws matches exp(−remaining/(Δβ)) within tolerance.
    @Test(arguments: [(0, 50, 1.0), (25, 50, 1.0), (50, 50, 1.0), (150, 50, 1.0), (100, 50, 2.0), (300, 200, 0.5)])
    func distributionMatchesThePaper(remaining: Int64, delta: Int64, beta: Double) {
        var generator = SplitMix64(seed: 0x5eed)
        let draws = 200_000
        var hits = 0
        for _ in 0..<draws {
            let u = generator.nextUniform()
            if EarlyRecompute.shouldRecompute(now: 10_000 - remaining, expiry: 10_000, delta: delta, beta: beta, uniform: u) {
                hits += 1
            }
        }
        let expected = EarlyRecompute.probability(remaining: remaining, delta: delta, beta: beta)
        let observed = Double(hits) / Double(draws)
        // Binomial standard error at 200,000 draws is at most 0.0012; allow five of them.
        #expect(abs(observed - expected) < 0.006, "remaining \(remaining): observed \(observed), expected \(expected)")
    }
}
