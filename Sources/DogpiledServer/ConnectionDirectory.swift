import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The open sockets `stats conns` lists, by descriptor: listeners and client connections with
/// their addresses and when each last received a request. Entries are added on bind and
/// accept and removed on close; a connection only stores its last-request time on each read.
public final class ConnectionDirectory: @unchecked Sendable {
    /// One socket.
    final class Entry: Sendable {
        let address: String
        let listenAddress: String?
        let listening: Bool
        /// Server clock reading of the last request received.
        let lastCommand: Atomic<UInt32>

        init(address: String, listenAddress: String?, listening: Bool, now: UInt32) {
            self.address = address
            self.listenAddress = listenAddress
            self.listening = listening
            self.lastCommand = Atomic(now)
        }
    }

    private let entries = PThreadLocked<[Int32: Entry]>([:])

    public init() {}

    private func withLock<Result>(_ body: (inout [Int32: Entry]) -> Result) -> Result {
        entries.withLock(body)
    }

    /// Registers `descriptor`; returns its entry, whose `lastCommand` the owner updates.
    @discardableResult
    func add(_ descriptor: Int32, listening: Bool, now: UInt32) -> Entry {
        let local = SocketAddressText.of(descriptor, peer: false) ?? "unknown"
        let entry = listening
            ? Entry(address: local, listenAddress: nil, listening: true, now: now)
            : Entry(address: SocketAddressText.of(descriptor, peer: true) ?? local, listenAddress: local, listening: false, now: now)
        withLock { $0[descriptor] = entry }
        return entry
    }

    /// Forgets `descriptor` (closed).
    func remove(_ descriptor: Int32) {
        _ = withLock { $0.removeValue(forKey: descriptor) }
    }

    /// `stats conns`: `<fd>:addr`, `<fd>:listen_addr` (connections), `<fd>:state`,
    /// `<fd>:secs_since_last_cmd` per socket in descriptor order; `asking` is the connection
    /// running the command (parsing it, as memcached reports it); the others wait for input (`conn_read`, as memcached shows an idle connection).
    func report(now: UInt32, asking: Int32) -> [(String, String)] {
        let sorted = withLock { $0.sorted { $0.key < $1.key } }
        var lines: [(String, String)] = []
        for (descriptor, entry) in sorted {
            lines.append(("\(descriptor):addr", entry.address))
            if let listen = entry.listenAddress { lines.append(("\(descriptor):listen_addr", listen)) }
            let state = entry.listening ? "conn_listening" : descriptor == asking ? "conn_parse_cmd" : "conn_read"
            lines.append(("\(descriptor):state", state))
            let last = entry.lastCommand.load(ordering: .relaxed)
            lines.append(("\(descriptor):secs_since_last_cmd", String(now >= last ? now - last : 0)))
        }
        return lines
    }
}
