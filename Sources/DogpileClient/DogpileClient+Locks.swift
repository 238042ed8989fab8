import NIOCore

extension DogpileClient {
    /// Default `lease_ms` of generation leases and mutex holds.
    public static let defaultLease: Duration = .seconds(30)
    /// Default `wait_ms`.
    public static let defaultWait: Duration = .seconds(5)

    // MARK: - Generation leases

    /// `lockgen <key> <lease_ms> <wait_ms> [early]` on a connection of its own, which a granted
    /// lease keeps until it is stored or released. May wait on the server up to `wait`; the read
    /// timeout is `wait` plus ``Configuration/waitMargin``.
    ///
    /// With `early`, the daemon may answer a fresh value close to its expiry with a lease
    /// (``LockgenResult/generate(_:)`` whose ``GenerationLease/staleItem`` is that value): the
    /// caller can show the value now and regenerate in the background (docs/protocol.md,
    /// "Early recompute").
    public func lockgen(_ key: String, lease: Duration = defaultLease, wait: Duration = defaultWait,
                        bounded: Bool = true, early: Bool = false) async throws -> LockgenResult {
        try KeyMangler.validateKey(key)
        let daemon = daemon(for: key)
        var words = ["lockgen", key, String(lease.milliseconds(minimum: 1)), String(wait.milliseconds())]
        if early { words.append("early") }
        let request = RequestEncoder.line(words)
        let timeout = timeout(waiting: wait)
        let requestTimeout = configuration.requestTimeout.timeAmount
        if daemon.isDead {
            throw DogpileClientError(.daemonDead, "marked dead after a failure", daemon: daemon.name, key: key)
        }
        let connection: Connection
        do {
            connection = try await daemon.pool.checkout(bounded: bounded)
        } catch let error as DogpileClientError where error.code == .connectionFailed {
            daemon.markDead()
            throw DogpileClientError(error.code, error.message, daemon: daemon.name, key: key)
        }
        let reply: Reply
        do {
            reply = try await connection.send(request, timeout: timeout)
        } catch var error as DogpileClientError {
            daemon.pool.checkin(connection, reusable: false)
            error.key = key
            throw error
        }
        switch reply {
        case .values(let items, .generate(let token)) where items.count <= 1:
            return .generate(GenerationLease(key: key, token: token, staleItem: items.first, connection: connection,
                                             pool: daemon.pool, requestTimeout: requestTimeout))
        case .values(let items, .hit) where items.count == 1:
            daemon.pool.checkin(connection)
            return .hit(items[0])
        case .values(let items, .stale) where items.count == 1:
            daemon.pool.checkin(connection)
            return .stale(items[0])
        case .status(.busy):
            daemon.pool.checkin(connection)
            return .busy
        default:
            daemon.pool.checkin(connection, reusable: DogpileClientError.from(reply, daemon: daemon.name) != nil)
            throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: key, request: "lockgen")
        }
    }

    /// `setgen` from any connection (tokens are checked, not connections). True on `STORED`,
    /// false on `NOT_OWNER`. Prefer ``GenerationLease/store(_:flags:exptime:)``.
    public func setgen(_ key: String, token: UInt64, _ data: [UInt8], flags: UInt32 = 0, exptime: Int64 = 0) async throws -> Bool {
        let bytes = RequestEncoder.storage(["setgen", key, String(token), String(flags), String(exptime)], data: data)
        let (reply, daemon) = try await send(bytes, key: key)
        switch reply {
        case .status(.stored): return true
        case .status(.notOwner): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: key, request: "setgen")
        }
    }

    /// `unlockgen` from any connection. True on `RELEASED`, false on `NOT_OWNER`.
    @discardableResult
    public func unlockgen(_ key: String, token: UInt64) async throws -> Bool {
        let (reply, daemon) = try await send(RequestEncoder.line("unlockgen", key, String(token)), key: key)
        switch reply {
        case .status(.released): return true
        case .status(.notOwner): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: key, request: "unlockgen")
        }
    }

    // MARK: - Named mutexes

    /// `lock` (or `rlock` when `shared`) on the daemon the ring gives `name`. Waits on the
    /// server up to `wait`; throws ``DogpileClientError/Code/busy`` if the mutex stayed held.
    /// The hold keeps its connection until ``MutexHold/unlock()``.
    public func lock(_ name: String, lease: Duration = defaultLease, wait: Duration = defaultWait,
                     shared: Bool = false) async throws -> MutexHold {
        try KeyMangler.validateKey(name)
        let daemon = daemon(for: name)
        let verb = shared ? "rlock" : "lock"
        let request = RequestEncoder.line(verb, name, String(lease.milliseconds(minimum: 1)), String(wait.milliseconds()))
        let timeout = timeout(waiting: wait)
        let requestTimeout = configuration.requestTimeout.timeAmount
        if daemon.isDead {
            throw DogpileClientError(.daemonDead, "marked dead after a failure", daemon: daemon.name, key: name)
        }
        let connection: Connection
        do {
            connection = try await daemon.pool.checkout()
        } catch let error as DogpileClientError where error.code == .connectionFailed {
            daemon.markDead()
            throw DogpileClientError(error.code, error.message, daemon: daemon.name, key: name)
        }
        let reply: Reply
        do {
            reply = try await connection.send(request, timeout: timeout)
        } catch var error as DogpileClientError {
            daemon.pool.checkin(connection, reusable: false)
            error.key = name
            throw error
        }
        switch reply {
        case .locked(let token):
            return MutexHold(name: name, token: token, shared: shared, connection: connection, pool: daemon.pool,
                             requestTimeout: requestTimeout)
        case .status(.busy):
            daemon.pool.checkin(connection)
            throw DogpileClientError(.busy, "\(verb) \(name): still held after \(wait)", daemon: daemon.name, key: name)
        default:
            daemon.pool.checkin(connection, reusable: DogpileClientError.from(reply, daemon: daemon.name) != nil)
            throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: name, request: verb)
        }
    }

    /// `unlock` from any connection, with a token. True on `UNLOCKED`, false on `NOT_OWNER`.
    @discardableResult
    public func unlock(_ name: String, token: UInt64) async throws -> Bool {
        let (reply, daemon) = try await send(RequestEncoder.line("unlock", name, String(token)), key: name)
        switch reply {
        case .status(.unlocked): return true
        case .status(.notOwner): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: name, request: "unlock")
        }
    }

    /// `renew` from any connection, with a token. True on `RENEWED`, false on `NOT_OWNER`.
    public func renew(_ name: String, token: UInt64, lease: Duration) async throws -> Bool {
        let request = RequestEncoder.line("renew", name, String(token), String(lease.milliseconds(minimum: 1)))
        let (reply, daemon) = try await send(request, key: name)
        switch reply {
        case .status(.renewed): return true
        case .status(.notOwner): return false
        default: throw DogpileClientError.unexpected(reply, daemon: daemon.name, key: name, request: "renew")
        }
    }
}
