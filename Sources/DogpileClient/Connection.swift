import NIOCore
import NIOPosix

/// One open connection to one daemon, on a swift-nio channel.
///
/// Requests may be pipelined (the ``ReplyHandler`` answers them in order), but the client checks a
/// connection out of its ``ConnectionPool`` for one caller at a time, and a request that may wait
/// on the server (`lockgen`, `lock`, `rlock`) keeps it until answered.
final class Connection: Sendable {
    /// The channel.
    let channel: any Channel
    /// The daemon's name, for errors.
    let daemon: String

    private init(channel: any Channel, daemon: String) {
        self.channel = channel
        self.daemon = daemon
    }

    /// Whether the connection can still carry requests.
    var isOpen: Bool { channel.isActive }

    /// Connects to `address` within `timeout`.
    static func connect(to address: ServerAddress, group: any EventLoopGroup, timeout: TimeAmount) async throws -> Connection {
        let daemon = address.name
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(daemon: daemon))
                }
            }
        do {
            let channel: any Channel
            switch address.endpoint {
            case .tcp(let host, let port):
                channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
            return Connection(channel: channel, daemon: daemon)
        } catch {
            throw DogpileClientError(.connectionFailed, "cannot connect: \(error)", daemon: daemon)
        }
    }

    /// Sends `bytes` (one request) and waits for its reply, at most `timeout`.
    func send(_ bytes: ByteBuffer, timeout: TimeAmount, mode: ReplyDecoder.Mode = .reply) async throws -> Reply {
        let promise = channel.eventLoop.makePromise(of: Reply.self)
        let daemon = self.daemon
        channel.writeAndFlush(PendingRequest(bytes: bytes, promise: promise, timeout: timeout, mode: mode)).whenFailure { error in
            // If the handler already failed the promise, this second completion is ignored.
            promise.fail(DogpileClientError(.connectionFailed, "cannot send: \(error)", daemon: daemon))
        }
        return try await promise.futureResult.get()
    }

    /// Closes the connection (ending any lease or mutex hold it has on the daemon).
    func close() {
        channel.close(promise: nil)
    }
}
