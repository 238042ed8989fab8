import NIOCore
import Synchronization

/// A hold on a named mutex (`lock` or `rlock` answered `LOCKED <token>`).
///
/// The hold keeps the connection it was granted on checked out (the daemon ends a hold when its
/// holder's connection closes) until ``unlock()``. Dropping it without unlocking closes that
/// connection, which ends the hold on the daemon.
public final class MutexHold: Sendable {
    /// The mutex name.
    public let name: String
    /// The hold's token (a fencing token, shared with generation leases' sequence).
    public let token: UInt64
    /// Whether this is a shared (`rlock`) hold.
    public let shared: Bool
    /// The daemon holding the mutex.
    public let daemon: String
    private let pool: ConnectionPool
    private let requestTimeout: TimeAmount
    private let connection: Mutex<Connection?>

    init(name: String, token: UInt64, shared: Bool, connection: Connection, pool: ConnectionPool, requestTimeout: TimeAmount) {
        self.name = name
        self.token = token
        self.shared = shared
        self.daemon = connection.daemon
        self.pool = pool
        self.requestTimeout = requestTimeout
        self.connection = Mutex(connection)
    }

    deinit {
        if let connection = connection.withLock({ $0 }) {
            pool.checkin(connection, reusable: false)
        }
    }

    /// `renew`: the hold now lasts `lease` from now. True on `RENEWED`, false on `NOT_OWNER`
    /// (the hold had ended: its lease passed, or it was unlocked).
    public func renew(lease: Duration) async throws -> Bool {
        let reply = try await send(RequestEncoder.line("renew", name, String(token), String(lease.milliseconds(minimum: 1))), finishing: false)
        switch reply {
        case .status(.renewed): return true
        case .status(.notOwner): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon, key: name, request: "renew")
        }
    }

    /// `unlock`: releases the hold. True on `UNLOCKED`, false on `NOT_OWNER` (it had ended).
    @discardableResult
    public func unlock() async throws -> Bool {
        let reply = try await send(RequestEncoder.line("unlock", name, String(token)), finishing: true)
        switch reply {
        case .status(.unlocked): return true
        case .status(.notOwner): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon, key: name, request: "unlock")
        }
    }

    private func send(_ bytes: ByteBuffer, finishing: Bool) async throws -> Reply {
        guard let connection = connection.withLock({ $0 }) else {
            throw DogpileClientError(.notOwner, "this hold was already unlocked", daemon: daemon, key: name)
        }
        do {
            let reply = try await connection.send(bytes, timeout: requestTimeout)
            if finishing { finish(reusable: true) }
            return reply
        } catch {
            finish(reusable: false)
            throw error
        }
    }

    private func finish(reusable: Bool) {
        if let connection = connection.withLock({ current -> Connection? in
            defer { current = nil }
            return current
        }) {
            pool.checkin(connection, reusable: reusable)
        }
    }
}
