import Synchronization

/// The request counters one worker keeps; memcached's per-thread stats.
///
/// Only the owning worker writes (a relaxed load and store, no read-modify-write), while `stats`
/// on any thread reads them with relaxed loads.
public final class WorkerStatistics: Sendable {
    /// The counters, by memcached's field names.
    public enum Counter: Int, CaseIterable, Sendable {
        case cmdGet, cmdSet, cmdFlush, cmdTouch
        case getHits, getMisses
        case deleteMisses, deleteHits, incrMisses, incrHits, decrMisses, decrHits
        case casMisses, casHits, casBadval, touchHits, touchMisses
        case storeTooLarge, storeNoMemory
        case bytesRead, bytesWritten, connYields
        case idleKicks, readBufferOutOfMemory, binaryProtocolCloses
        /// memcached's `cmd_meta`: `me` commands (the other meta commands count as gets, sets...).
        case cmdMeta
        /// `-Y` authentication attempts, and the failed ones.
        case authCmds, authErrors
        /// TLS handshakes that failed, and those cut off by `tls_handshake_timeout`.
        case sslHandshakeErrors, sslHandshakeTimeouts

        /// The name `stats` prints.
        public var name: String {
            switch self {
            case .cmdGet: "cmd_get"
            case .cmdSet: "cmd_set"
            case .cmdFlush: "cmd_flush"
            case .cmdTouch: "cmd_touch"
            case .getHits: "get_hits"
            case .getMisses: "get_misses"
            case .deleteMisses: "delete_misses"
            case .deleteHits: "delete_hits"
            case .incrMisses: "incr_misses"
            case .incrHits: "incr_hits"
            case .decrMisses: "decr_misses"
            case .decrHits: "decr_hits"
            case .casMisses: "cas_misses"
            case .casHits: "cas_hits"
            case .casBadval: "cas_badval"
            case .touchHits: "touch_hits"
            case .touchMisses: "touch_misses"
            case .storeTooLarge: "store_too_large"
            case .storeNoMemory: "store_no_memory"
            case .bytesRead: "bytes_read"
            case .bytesWritten: "bytes_written"
            case .connYields: "conn_yields"
            case .idleKicks: "idle_kicks"
            case .readBufferOutOfMemory: "read_buf_oom"
            case .binaryProtocolCloses: "binary_protocol_closes"
            case .cmdMeta: "cmd_meta"
            case .authCmds: "auth_cmds"
            case .authErrors: "auth_errors"
            case .sslHandshakeErrors: "ssl_handshake_errors"
            case .sslHandshakeTimeouts: "ssl_handshake_timeouts"
            }
        }
    }

    private let counters: InlineArray<30, Atomic<UInt64>>

    /// All zero.
    public init() {
        counters = InlineArray { _ in Atomic(0) }
    }

    /// Adds `amount`; call only from the owning worker.
    @inline(__always)
    public func add(_ counter: Counter, _ amount: UInt64 = 1) {
        let slot = counter.rawValue
        counters[slot].store(counters[slot].load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    /// The current value.
    public func value(_ counter: Counter) -> UInt64 {
        counters[counter.rawValue].load(ordering: .relaxed)
    }

    /// Bytes queued in this worker's connections' output buffers (a gauge: `stats reset` keeps it).
    private let outputBytes = Atomic<Int>(0)

    /// Adds `delta` (possibly negative) to the queued output; call only from the owning worker.
    @inline(__always)
    public func adjustOutputBytes(by delta: Int) {
        outputBytes.store(outputBytes.load(ordering: .relaxed) &+ delta, ordering: .relaxed)
    }

    /// Bytes queued for output on this worker's connections.
    public var queuedOutputBytes: Int { outputBytes.load(ordering: .relaxed) }

    /// Sets every counter to 0 (`stats reset`); racy with the owner by nature, as in memcached.
    public func reset() {
        for counter in Counter.allCases { counters[counter.rawValue].store(0, ordering: .relaxed) }
    }
}
