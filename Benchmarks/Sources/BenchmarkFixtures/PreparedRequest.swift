/// What a benchmark's setup hands its closure: the server's layers and the request to repeat,
/// both made before measuring starts so that neither is counted.
public final class PreparedRequest: @unchecked Sendable {
    /// The server's layers, with whatever the setup stored in them.
    public let layers: ServerLayers
    /// The request the benchmark repeats.
    public let input: RequestBuffer

    /// Bundles the two.
    public init(layers: ServerLayers, input: RequestBuffer) {
        self.layers = layers
        self.input = input
    }
}
