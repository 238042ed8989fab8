import NIOCore
import Synchronization

/// One daemon of the client: its address, its connection pool, and whether it is marked dead.
///
/// A daemon that cannot be connected to is marked dead for `retryAfter`; meanwhile requests to
/// it fail at once with ``DogpileClientError/Code/daemonDead``, naming it. After that time the
/// next request tries again.
final class Daemon: Sendable {
    let address: ServerAddress
    let pool: ConnectionPool
    private let retryAfter: Duration
    private let deadUntil = Mutex<ContinuousClock.Instant?>(nil)

    init(address: ServerAddress, maximumConnections: Int, settings: ConnectionSettings, retryAfter: Duration) {
        self.address = address
        self.retryAfter = retryAfter
        self.pool = ConnectionPool(address: address, maximum: maximumConnections, settings: settings)
    }

    /// The name errors and logs use.
    var name: String { address.name }

    /// Whether the daemon is marked dead now.
    var isDead: Bool {
        deadUntil.withLock { until in
            guard let deadline = until else { return false }
            if ContinuousClock.now >= deadline {
                until = nil
                return false
            }
            return true
        }
    }

    /// Runs `body` with a connection of this caller's own, and returns the connection after.
    ///
    /// A connection whose request failed with a timeout, a protocol error or a closed connection
    /// is not reused. A failure to connect marks the daemon dead.
    func withConnection<T>(bounded: Bool = true, _ body: (Connection) async throws -> T) async throws -> T {
        if isDead {
            throw DogpileClientError(.daemonDead, "marked dead after a failure; retried after \(retryAfter)", daemon: name)
        }
        let connection: Connection
        do {
            connection = try await pool.checkout(bounded: bounded)
        } catch let error as DogpileClientError where error.code == .connectionFailed {
            markDead()
            throw error
        }
        do {
            let result = try await body(connection)
            pool.checkin(connection)
            return result
        } catch {
            pool.checkin(connection, reusable: Self.leavesConnectionUsable(error))
            throw error
        }
    }

    /// Sends one request on a pooled connection and returns its reply.
    func send(_ bytes: ByteBuffer, timeout: TimeAmount) async throws -> Reply {
        try await withConnection { try await $0.send(bytes, timeout: timeout) }
    }

    /// Marks the daemon dead for `retryAfter`.
    func markDead() {
        deadUntil.withLock { $0 = ContinuousClock.now + retryAfter }
    }

    /// Server error lines leave the connection in step; anything else (timeouts, closed
    /// connections, protocol errors, a cancelled or throwing caller) may not.
    private static func leavesConnectionUsable(_ error: any Error) -> Bool {
        guard let error = error as? DogpileClientError else { return false }
        switch error.code {
        case .unknownCommand, .clientError, .serverError, .tooManyLocks, .outOfMemory, .notOwner, .busy,
             .valueFormat, .invalidArgument:
            return true
        default:
            return false
        }
    }
}
