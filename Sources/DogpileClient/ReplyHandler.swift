import NIOCore

/// The channel handler of one daemon connection: writes requests, decodes replies with the
/// ``ReplyDecoder`` and completes each request's promise in order (the text protocol answers in
/// request order). A reply that does not arrive within its request's timeout fails every request
/// on the connection and closes it: the stream can no longer be trusted to line up.
final class ReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var promise: EventLoopPromise<Reply>
        var mode: ReplyDecoder.Mode
        var timer: Scheduled<Void>?
    }

    private let daemon: String
    private var decoder = ReplyDecoder()
    private var received: ByteBuffer?
    private var waiting = CircularBuffer<Waiting>()
    /// Set once the connection is unusable; later requests fail with it at once.
    private var failure: DogpileClientError?

    init(daemon: String) {
        self.daemon = daemon
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let timeout = request.timeout
        let timer = context.eventLoop.scheduleTask(in: timeout) {
            let error = DogpileClientError(.timeout, "no reply within \(timeout.nanoseconds / 1_000_000) ms", daemon: loopBoundSelf.value.daemon)
            loopBoundSelf.value.failAll(error, context: loopBoundContext.value)
        }
        waiting.append(Waiting(promise: request.promise, mode: request.mode, timer: timer))
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if received == nil {
            received = incoming
        } else {
            received!.writeBuffer(&incoming)
        }
        while var buffer = received, buffer.readableBytes > 0, failure == nil {
            // The reply being read answers the oldest request: decode it as that request expects.
            decoder.mode = waiting.first?.mode ?? .reply
            let step = buffer.withUnsafeReadableBytes { decoder.decode($0) }
            switch step {
            case .needMoreBytes:
                return
            case .reply(let reply, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                // Pipelined replies can keep the buffer from ever emptying: drop what was read.
                if buffer.readerIndex > 65_536 { buffer.discardReadBytes() }
                received = buffer.readableBytes > 0 ? buffer : nil
                guard let first = waiting.popFirst() else {
                    failAll(DogpileClientError(.protocolError, "a reply nobody asked for: \(reply)", daemon: daemon), context: context)
                    return
                }
                first.timer?.cancel()
                first.promise.succeed(reply)
            case .invalid(let reason):
                failAll(DogpileClientError(.protocolError, "not a memcached reply: \(reason)", daemon: daemon), context: context)
                return
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(DogpileClientError(.connectionFailed, "the connection closed", daemon: daemon), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(DogpileClientError(.connectionFailed, "connection error: \(error)", daemon: daemon), context: context)
    }

    /// Fails every waiting request with `error` (the first one) and closes the connection.
    private func failAll(_ error: DogpileClientError, context: ChannelHandlerContext) {
        if failure == nil { failure = error }
        var first = true
        while let entry = waiting.popFirst() {
            entry.timer?.cancel()
            let closed = DogpileClientError(.connectionFailed, "the connection closed (\(error.message))", daemon: daemon)
            entry.promise.fail(first ? error : closed)
            first = false
        }
        received = nil
        decoder.reset()
        context.close(promise: nil)
    }
}
