import NIOCore

/// A request on its way to the daemon: its bytes, where its reply goes, and how long it may take.
struct PendingRequest: Sendable {
    var bytes: ByteBuffer
    var promise: EventLoopPromise<Reply>
    var timeout: TimeAmount
    /// What its reply looks like (only `mlockgen`'s cannot be told from its first line).
    var mode: ReplyDecoder.Mode = .reply
}
