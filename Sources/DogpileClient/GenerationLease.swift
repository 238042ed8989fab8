import NIOCore
import Synchronization

/// A generation lease from `lockgen` (`GEN <token>`): this caller alone regenerates the key.
///
/// The lease keeps the connection it was granted on checked out (the daemon ends a lease when its
/// holder's connection closes) until ``store(_:flags:exptime:)`` or ``release()`` returns it.
/// Dropping a lease without either closes that connection, which ends the lease on the daemon.
public final class GenerationLease: Sendable {
    /// The cache key.
    public let key: String
    /// The lease's token (also a fencing token: strictly increasing across the daemon).
    public let token: UInt64
    /// The stale copy `lockgen` handed out with the lease, if there was one.
    public let staleItem: CacheItem?
    /// The daemon holding the lease.
    public let daemon: String
    private let pool: ConnectionPool
    private let requestTimeout: TimeAmount
    private let connection: Mutex<Connection?>

    init(key: String, token: UInt64, staleItem: CacheItem?, connection: Connection, pool: ConnectionPool,
         requestTimeout: TimeAmount) {
        self.key = key
        self.token = token
        self.staleItem = staleItem
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

    /// `setgen`: stores `data` if the lease is still live. True on `STORED`; false on
    /// `NOT_OWNER` (the lease ended: its `lease_ms` passed, or someone stored or deleted the
    /// key; nothing was stored). A server error (e.g. too large) leaves the lease held: store
    /// something smaller, or ``release()``.
    public func store(_ data: [UInt8], flags: UInt32 = 0, exptime: Int64 = 0) async throws -> Bool {
        let bytes = RequestEncoder.storage(["setgen", key, String(token), String(flags), String(exptime)], data: data)
        let reply = try await send(bytes)
        switch reply {
        case .status(.stored): return true
        case .status(.notOwner): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon, key: key, request: "setgen")
        }
    }

    /// `unlockgen`: gives the lease back without a value, so the oldest waiter is elected now.
    /// True on `RELEASED`, false on `NOT_OWNER` (it had ended already).
    @discardableResult
    public func release() async throws -> Bool {
        let reply = try await send(RequestEncoder.line("unlockgen", key, String(token)))
        switch reply {
        case .status(.released): return true
        case .status(.notOwner): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon, key: key, request: "unlockgen")
        }
    }

    /// Sends on the lease's connection; returns the connection to the pool once the lease is
    /// over (`STORED`, `RELEASED`, `NOT_OWNER`) and closes it if the request failed.
    private func send(_ bytes: ByteBuffer) async throws -> Reply {
        guard let connection = connection.withLock({ $0 }) else {
            throw DogpileClientError(.notOwner, "this lease was already stored or released", daemon: daemon, key: key)
        }
        do {
            let reply = try await connection.send(bytes, timeout: requestTimeout)
            switch reply {
            case .status(.stored), .status(.released), .status(.notOwner): finish(reusable: true)
            default: break  // e.g. SERVER_ERROR object too large: the lease is still ours
            }
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
