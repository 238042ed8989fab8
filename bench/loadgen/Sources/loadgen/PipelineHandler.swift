import NIOCore

/// One connection kept `depth` requests deep: every reply is timed against its request's send
/// time and answered by a new request at once, so the server always has `depth` queued.
/// A lockgen answered `GEN <token>` is followed by that key's setgen, as a client regenerating.
final class PipelineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Sent {
        var kind: RequestKind
        var key: Int
        var nanoseconds: UInt64
    }

    private let workload: Workload
    private let depth: Int
    private let recorder: Recorder
    private var random: FastRandom
    private var sent = CircularBuffer<Sent>()
    private var input: ByteBuffer?
    private var output: ByteBuffer?

    init(workload: Workload, depth: Int, recorder: Recorder, seed: UInt64) {
        self.workload = workload
        self.depth = depth
        self.recorder = recorder
        self.random = FastRandom(seed: seed)
        sent.reserveCapacity(depth + 1)
    }

    func channelActive(context: ChannelHandlerContext) {
        output = context.channel.allocator.buffer(capacity: depth * (64 + workload.value.count))
        let now = Self.now()
        for _ in 0..<depth { issue(now: now) }
        flush(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if input == nil || input!.readableBytes == 0 {
            input = bytes
        } else {
            input!.writeBuffer(&bytes)
        }
        let now = Self.now()
        while let reply = ReplyScanner.next(in: &input!) {
            guard let request = sent.popFirst() else {
                recorder.errors += 1
                context.close(promise: nil)
                return
            }
            recorder.record(request.kind, reply, nanoseconds: now &- request.nanoseconds)
            if request.kind == .lockgen, case .generate(let token) = reply {
                workload.writeSet(key: request.key, exptime: workload.lockExptime, token: token, into: &output!)
                sent.append(Sent(kind: .setgen, key: request.key, nanoseconds: now))
            } else {
                issue(now: now)
            }
        }
        input!.discardReadBytes()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        recorder.errors += 1
        context.close(promise: nil)
    }

    private func issue(now: UInt64) {
        let key = workload.keys.next(&random)
        let kind = workload.writeRequest(key: key, random: &random, into: &output!)
        sent.append(Sent(kind: kind, key: key, nanoseconds: now))
    }

    private func flush(context: ChannelHandlerContext) {
        guard let pending = output, pending.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(pending), promise: nil)
        output = context.channel.allocator.buffer(capacity: pending.capacity)
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}

/// Stores every key once (noreply sets), then `version`, whose reply means all were taken.
final class PrefillHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let done: EventLoopPromise<Void>
    private var seen = ByteBuffer()
    private var completed = false

    init(done: EventLoopPromise<Void>) { self.done = done }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        seen.writeBuffer(&bytes)
        if seen.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) != nil {
            let line = seen.readString(length: seen.readableBytes) ?? ""
            guard !completed else { return }
            completed = true
            if line.hasPrefix("VERSION") { done.succeed(()) } else { done.fail(LoadgenError("prefill: \(line)")) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !completed else { return }
        completed = true
        done.fail(LoadgenError("prefill: connection closed"))
    }
}

/// A failure the load generator reports and exits on.
struct LoadgenError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
