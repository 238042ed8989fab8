/// What a `lockgen ... early` reader brings to the store's lookup: the region's β and a uniform
/// draw in (0, 1]. The store decides under its shard lock (the item's exptime can change under
/// `touch`), from the item's own Δ and the server clock in milliseconds.
public struct EarlyRecomputeDraw: Sendable {
    /// The region's β; 0 turns early recompute off.
    public var beta: Double
    /// Uniform in (0, 1].
    public var uniform: Double

    /// A draw.
    public init(beta: Double, uniform: Double) {
        self.beta = beta
        self.uniform = uniform
    }
}
