#if canImport(Glibc)
import Glibc
#endif

/// sd_notify without libsystemd: one datagram to the socket named by `NOTIFY_SOCKET` (a path, or
/// an abstract name starting with `@`). Does nothing when not started by systemd.
struct SystemdNotifier {
    private let path: String?

    init() {
        path = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
    }

    func send(_ message: String) {
        guard let path, !path.isEmpty else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        var payload = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(fd, &payload, payload.count, Int32(MSG_NOSIGNAL), socketAddress, length)
            }
        }
    }
}
