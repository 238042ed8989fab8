#if canImport(Glibc)
import Glibc
#endif
import CLibevent

/// TCP keepalive probe times for accepted connections.
///
/// The kernel's default (first probe after two hours idle) finds a vanished peer far too late to
/// matter; short probes let a connection whose host died or whose path broke close within about
/// `idleSeconds + intervalSeconds * count`, releasing its slot and any lock it holds.
public struct TCPKeepalive: Sendable, Equatable {
    /// Seconds of silence before the first probe (`TCP_KEEPIDLE`).
    public var idleSeconds: Int
    /// Seconds between probes (`TCP_KEEPINTVL`).
    public var intervalSeconds: Int
    /// Unanswered probes before the connection is dropped (`TCP_KEEPCNT`).
    public var count: Int

    /// Probe times.
    public init(idleSeconds: Int, intervalSeconds: Int, count: Int) {
        self.idleSeconds = idleSeconds
        self.intervalSeconds = intervalSeconds
        self.count = count
    }

    /// Turns keepalive on for `descriptor` with these times. False if the socket refused (a Unix
    /// socket has no TCP options: that is expected, not an error).
    @discardableResult
    public func apply(to descriptor: Int32) -> Bool {
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        guard setsockopt(descriptor, SOL_SOCKET, SO_KEEPALIVE, &one, size) == 0 else { return false }
        var idle = Int32(clamping: idleSeconds)
        var interval = Int32(clamping: intervalSeconds)
        var probes = Int32(clamping: count)
        let tcp = Int32(IPPROTO_TCP)
        return setsockopt(descriptor, tcp, TCP_KEEPIDLE, &idle, size) == 0
            && setsockopt(descriptor, tcp, TCP_KEEPINTVL, &interval, size) == 0
            && setsockopt(descriptor, tcp, TCP_KEEPCNT, &probes, size) == 0
    }
}
