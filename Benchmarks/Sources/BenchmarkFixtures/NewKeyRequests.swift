/// A `set` request whose key is new each time: `new:` and a 12-digit counter, rewritten in place
/// in the request line, so that no key is built per operation.
public final class NewKeyRequests: @unchecked Sendable {
    /// The server's layers the requests go to.
    public let layers: ServerLayers
    /// `set new:<counter> 0 0 5` and its data block.
    public let input = RequestBuffer("set new:000000000000 0 0 5\r\nhello\r\n")
    private let key: DecimalField
    private var next: UInt64 = 0

    /// Requests for `layers`; the first key is `new:000000000001`.
    public init(layers: ServerLayers) {
        self.layers = layers
        self.key = input.field(after: "new:", width: 12)
    }

    /// Writes the next key into the request.
    public func advance() {
        next += 1
        key.write(next)
    }
}
