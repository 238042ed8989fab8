import NIOCore
import Synchronization

/// A generation lease from `lockgen` or `mlockgen` (`GEN <token>`): this caller alone regenerates the key.
///
/// The lease keeps the connection it was granted on checked out (the daemon ends a lease when its
/// holder's connection closes) until ``store(_:flags:exptime:)`` or ``release()`` returns it;
/// leases from one `mlockgen` share their connection, returned when the last is over.
/// Dropping a lease without either closes that connection, which ends the lease on the daemon.
public final class GenerationLease: Sendable {
    /// The cache key.
    public let key: String
    /// The lease's token (also a fencing token: strictly increasing across the daemon).
    public let token: UInt64
    /// The value `lockgen` handed out with the lease (`VALUE ... GEN`), if there was one: a stale
    /// copy, or, with early recompute, a fresh value close to its expiry.
    public let staleItem: CacheItem?
    /// The daemon holding the lease.
    public let daemon: String
    private let holder: LeaseConnection
    private let requestTimeout: TimeAmount
    /// Set once the lease is over (stored, released, or its request failed).
    private let over = Mutex(false)

    convenience init(key: String, token: UInt64, staleItem: CacheItem?, connection: Connection, pool: ConnectionPool,
         requestTimeout: TimeAmount) {
        self.init(key: key, token: token, staleItem: staleItem,
                  holder: LeaseConnection(connection: connection, pool: pool, holders: 1), requestTimeout: requestTimeout)
    }

    init(key: String, token: UInt64, staleItem: CacheItem?, holder: LeaseConnection, requestTimeout: TimeAmount) {
        self.key = key
        self.token = token
        self.staleItem = staleItem
        self.daemon = holder.connection.daemon
        self.holder = holder
        self.requestTimeout = requestTimeout
    }

    deinit {
        if !over.withLock({ $0 }) { holder.release(reusable: false) }
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
        guard !over.withLock({ $0 }) else {
            throw DogpileClientError(.notOwner, "this lease was already stored or released", daemon: daemon, key: key)
        }
        do {
            let reply = try await holder.connection.send(bytes, timeout: requestTimeout)
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
        let first = over.withLock { over -> Bool in
            defer { over = true }
            return !over
        }
        if first { holder.release(reusable: reusable) }
    }
}
