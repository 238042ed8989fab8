/// A small fast generator (xorshift64*): the load generator draws several numbers per request.
struct FastRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    /// Uniform in 0..<1.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// Picks key numbers: uniform, or zipfian (YCSB's generator after Gray et al., rank 0 hottest),
/// with an optional share of requests sent to a few hot keys (a stampede).
struct KeyChooser {
    enum Distribution: String { case uniform, zipfian }

    let count: Int
    let distribution: Distribution
    let hotKeys: Int
    let hotFraction: Double
    private let theta: Double
    private let alpha: Double
    private let zetaN: Double
    private let eta: Double

    init(count: Int, distribution: Distribution, theta: Double, hotKeys: Int, hotFraction: Double) {
        self.count = count
        self.distribution = distribution
        self.hotKeys = hotKeys
        self.hotFraction = hotFraction
        self.theta = theta
        var zeta = 0.0
        if distribution == .zipfian {
            for rank in 1...count { zeta += 1 / pow(Double(rank), theta) }
        }
        let zeta2 = 1 + 1 / pow(2, theta)
        zetaN = zeta
        alpha = 1 / (1 - theta)
        eta = (1 - pow(2 / Double(count), 1 - theta)) / (1 - zeta2 / zeta)
    }

    func next(_ random: inout FastRandom) -> Int {
        if hotKeys > 0, random.unit() < hotFraction { return Int(random.next() % UInt64(hotKeys)) }
        switch distribution {
        case .uniform:
            return Int(random.next() % UInt64(count))
        case .zipfian:
            let u = random.unit()
            let uz = u * zetaN
            if uz < 1 { return 0 }
            if uz < 1 + pow(0.5, theta) { return 1 }
            return min(count - 1, Int(Double(count) * pow(eta * u - eta + 1, alpha)))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
