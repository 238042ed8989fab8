#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Probabilistic early recompute: the XFetch rule of Vattani, Chierichetti and Lowenstein,
/// "Optimal Probabilistic Cache Stampede Prevention" (VLDB 2015).
///
/// A reader of a fresh value recomputes it ahead of its expiry when
/// `now − Δ·β·ln(u) ≥ expiry`, with `u` uniform in (0, 1], Δ the time a recomputation takes and
/// β ≥ 0 a tuning factor (1 is the paper's optimum; 0 turns early recompute off). The chance that
/// one read triggers is `exp(−remaining / (Δ·β))`: negligible while much time remains, rising as
/// expiry nears, and larger for values that take long to recompute, which need the head start.
/// With many readers, one of them recomputes shortly before expiry and nobody ever sees a miss.
///
/// Pure and deterministic given `u`, so the daemon draws `u` and tests inject it.
public enum EarlyRecompute {
    /// Whether a read at `now` should recompute a value expiring at `expiry` (both in
    /// milliseconds on one clock) whose recomputation takes `delta` milliseconds.
    /// `uniform` must be in (0, 1]; values outside are clamped into it.
    public static func shouldRecompute(now: Int64, expiry: Int64, delta: Int64, beta: Double, uniform: Double) -> Bool {
        guard beta > 0, delta > 0 else { return false }
        if now >= expiry { return true }
        let u = min(max(uniform, Double.leastNonzeroMagnitude), 1)
        // −Δ·β·ln(u) ≥ expiry − now, in doubles: Δ·β is at most hours, far inside their range.
        return -Double(delta) * beta * log(u) >= Double(expiry - now)
    }

    /// The chance that one read triggers with `remaining` milliseconds to expiry:
    /// `exp(−remaining / (Δ·β))` (what ``shouldRecompute(now:expiry:delta:beta:uniform:)`` does
    /// for a uniform `u`). For documentation and tests.
    public static func probability(remaining: Int64, delta: Int64, beta: Double) -> Double {
        guard beta > 0, delta > 0 else { return 0 }
        if remaining <= 0 { return 1 }
        return exp(-Double(remaining) / (Double(delta) * beta))
    }
}
