import NIOCore
import NIOPosix
import NIOSSL

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

    /// Connects to `address` within the settings' connect timeout: TCP or a Unix socket, then the
    /// TLS handshake and the authentication `set` when the settings have them. The connection
    /// is handed out only once all of them have succeeded.
    static func connect(to address: ServerAddress, settings: ConnectionSettings) async throws -> Connection {
        let daemon = address.name
        var sslHandler: NIOSSLClientHandler?
        if let context = settings.tls {
            let host: String?
            switch address.endpoint {
            case .tcp(let name, _): host = settings.serverHostname(for: name)
            case .unix: host = settings.tlsServerHostname
            }
            do {
                sslHandler = try NIOSSLClientHandler(context: context, serverHostname: host)
            } catch {
                throw DogpileClientError(.tlsFailed, "cannot start TLS: \(error)", daemon: daemon)
            }
        }
        let bootstrap = ClientBootstrap(group: settings.group)
            .connectTimeout(settings.connectTimeout)
            .channelInitializer { [sslHandler] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslHandler { try channel.pipeline.syncOperations.addHandler(sslHandler) }
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(daemon: daemon))
                }
            }
        let channel: any Channel
        do {
            switch address.endpoint {
            case .tcp(let host, let port):
                channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            throw DogpileClientError(.connectionFailed, "cannot connect: \(error)", daemon: daemon)
        }
        let connection = Connection(channel: channel, daemon: daemon)
        // The first request both completes the TLS handshake and authenticates; a version
        // round trip does the handshake alone, so a bad certificate is told apart from a bad
        // password.
        do {
            if let credentials = settings.credentials {
                try await connection.authenticate(credentials, timeout: settings.connectTimeout)
            } else if settings.tls != nil {
                _ = try await connection.send(RequestEncoder.line("version"), timeout: settings.connectTimeout)
            }
        } catch {
            connection.close()
            if let error = error as? DogpileClientError, error.code != .connectionFailed { throw error }
            if settings.tls != nil {
                throw DogpileClientError(.tlsFailed, "TLS handshake failed: \(error)", daemon: daemon)
            }
            throw error
        }
        return connection
    }

    /// Sends memcached's ASCII authentication (`set <any> 0 0 <n>` carrying `user pass`).
    private func authenticate(_ credentials: [UInt8], timeout: TimeAmount) async throws {
        let request = RequestEncoder.storage(["set", "auth", "0", "0", String(credentials.count)], data: credentials)
        let reply = try await send(request, timeout: timeout)
        guard case .status(.stored) = reply else {
            if case .clientError(let text) = reply {
                throw DogpileClientError(.authenticationFailed, "credentials refused: CLIENT_ERROR \(text)", daemon: daemon)
            }
            throw DogpileClientError.unexpected(reply, daemon: daemon, request: "authentication")
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
