import NIOCore
import Synchronization

/// The open connections to one daemon, bounded.
///
/// ``checkout(bounded:)`` hands out an idle connection, opens a new one while fewer than
/// `maximum` are open, or waits (first come, first served) for one to come back. A checkout that
/// must not wait behind other callers (`bounded: false`, used while a caller may already hold
/// leases on other connections, as in ``DogpileClient/mlockgen(_:lease:)``'s chunks) may open one
/// more; such extra connections are closed when returned to a full pool.
final class ConnectionPool: Sendable {
    private struct State {
        var idle: [Connection] = []
        var open = 0
        var waiters: [CheckedContinuation<Connection?, any Error>] = []
        var closed = false
    }

    let address: ServerAddress
    let maximum: Int
    private let settings: ConnectionSettings
    private let state = Mutex(State())

    init(address: ServerAddress, maximum: Int, settings: ConnectionSettings) {
        self.address = address
        self.maximum = max(1, maximum)
        self.settings = settings
    }

    /// An open connection for this caller alone, until ``checkin(_:)``.
    func checkout(bounded: Bool = true) async throws -> Connection {
        let reused: Connection? = try await withCheckedThrowingContinuation { continuation in
            state.withLock { state in
                if state.closed {
                    continuation.resume(throwing: DogpileClientError(.clientShutdown, "the client was shut down", daemon: address.name))
                    return
                }
                while let connection = state.idle.popLast() {
                    if connection.isOpen {
                        continuation.resume(returning: connection)
                        return
                    }
                    state.open -= 1
                }
                if state.open < maximum || !bounded {
                    state.open += 1
                    continuation.resume(returning: nil)  // the caller opens one
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
        if let reused { return reused }
        do {
            return try await Connection.connect(to: address, settings: settings)
        } catch {
            state.withLock { state in
                state.open -= 1
                // Let one waiter try in our place (it will most likely fail the same way, and say so).
                if !state.waiters.isEmpty {
                    state.open += 1
                    state.waiters.removeFirst().resume(returning: nil)
                }
            }
            throw error
        }
    }

    /// Gives `connection` back: to the next waiter, to the idle list, or closed if it is broken,
    /// not `reusable` (its state on the daemon is unknown), or one too many.
    func checkin(_ connection: Connection, reusable: Bool = true) {
        let keep = state.withLock { state -> Bool in
            if reusable && connection.isOpen && !state.closed {
                if !state.waiters.isEmpty {
                    state.waiters.removeFirst().resume(returning: connection)
                    return true
                }
                if state.open <= maximum {
                    state.idle.append(connection)
                    return true
                }
            }
            state.open -= 1
            if !state.waiters.isEmpty && !state.closed {
                state.open += 1
                state.waiters.removeFirst().resume(returning: nil)
            }
            return false
        }
        if !keep { connection.close() }
    }

    /// Closes idle connections and fails waiters; connections in use close when returned.
    func shutdown() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer { state.idle = []; state.waiters = [] }
            state.open -= state.idle.count
            return (state.idle, state.waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters {
            waiter.resume(throwing: DogpileClientError(.clientShutdown, "the client was shut down", daemon: address.name))
        }
    }

    /// Connections open now (idle or checked out), for tests and diagnostics.
    var openCount: Int { state.withLock { $0.open } }
}
