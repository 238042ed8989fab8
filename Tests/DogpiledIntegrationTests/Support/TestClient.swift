import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A raw, blocking client socket (TCP loopback or Unix) with deadline-bounded reads.
///
/// Reads go through an internal buffer: ``read(until:)`` returns through the terminator and keeps
/// whatever followed for the next read, so pipelined replies can be taken one at a time.
final class TestClient {
    private(set) var descriptor: Int32
    /// Seconds a single read call may wait in total.
    var timeout: Double
    private var pending: [UInt8] = []
    /// Whether the server has closed its side (EOF or reset seen).
    private(set) var peerClosed = false

    /// Connects to 127.0.0.1:`port`.
    init(port: Int, timeout: Double = 10) throws {
        self.timeout = timeout
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket: \(Self.lastError())") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let message = Self.lastError()
            // deinit runs for a class whose init throws once every property is set: mark the
            // descriptor closed, or deinit closes the number again, by then maybe another test's.
            Glibc.close(descriptor)
            descriptor = -1
            throw HarnessError("connect to port \(port): \(message)")
        }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Connects to the Unix socket at `path`.
    init(unixPath path: String, timeout: Double = 10) throws {
        self.timeout = timeout
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket: \(Self.lastError())") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw HarnessError("socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let message = Self.lastError()
            Glibc.close(descriptor)
            descriptor = -1
            throw HarnessError("connect to \(path): \(message)")
        }
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    /// Closes the sending direction (the server reads EOF).
    func shutdownWrite() {
        Glibc.shutdown(descriptor, Int32(SHUT_WR))
    }

    // MARK: - Sending

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw HarnessError("send: \(Self.lastError())")
                }
                offset += written
            }
        }
    }

    // MARK: - Receiving

    /// Bytes through the first occurrence of `terminator`.
    func read(until terminator: String) throws -> String {
        String(decoding: try readBytes(until: Array(terminator.utf8)), as: UTF8.self)
    }

    func readBytes(until terminator: [UInt8]) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        var searchFrom = 0
        while true {
            if let end = Self.find(terminator, in: pending, from: searchFrom) {
                let result = Array(pending[..<end])
                pending.removeFirst(end)
                return result
            }
            searchFrom = max(0, pending.count - terminator.count + 1)
            guard try fill(deadline: deadline) else {
                throw HarnessError("connection closed before \(String(decoding: terminator, as: UTF8.self).debugDescription); got \(preview(pending))")
            }
        }
    }

    /// Exactly `count` bytes.
    func read(count: Int) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while pending.count < count {
            guard try fill(deadline: deadline) else {
                throw HarnessError("connection closed after \(pending.count) of \(count) bytes: \(preview(pending))")
            }
        }
        let result = Array(pending[..<count])
        pending.removeFirst(count)
        return result
    }

    /// Everything until the server closes the connection.
    func readToEnd() throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while try fill(deadline: deadline) {}
        defer { pending.removeAll() }
        return pending
    }

    /// Sends `request` and returns the reply through `terminator`.
    func exchange(_ request: String, until terminator: String = "\r\n") throws -> String {
        try send(request)
        return try read(until: terminator)
    }

    /// `stats` as a dictionary.
    func stats(_ group: String = "") throws -> [String: String] {
        let reply = try exchange(group.isEmpty ? "stats\r\n" : "stats \(group)\r\n", until: "END\r\n")
        var result: [String: String] = [:]
        for line in reply.split(separator: "\r\n") where line.hasPrefix("STAT ") {
            let parts = line.split(separator: " ", maxSplits: 2)
            if parts.count == 3 { result[String(parts[1])] = String(parts[2]) }
        }
        return result
    }

    /// One `recv` into `pending`, waiting until `deadline`. False at EOF or reset.
    private func fill(deadline: Date) throws -> Bool {
        if peerClosed { return false }
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw HarnessError("read timed out; have \(preview(pending))") }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining * 1000, 1000)) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw HarnessError("poll: \(Self.lastError())")
            }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                pending.append(contentsOf: chunk[..<count])
                return true
            }
            if count == 0 || errno == ECONNRESET {
                peerClosed = true
                return false
            }
            if errno == EINTR || errno == EAGAIN { continue }
            throw HarnessError("recv: \(Self.lastError())")
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0] {
                var match = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return index + needle.count }
            }
            index += 1
        }
        return nil
    }

    private func preview(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
        return bytes.count > 200 ? "\(text)... (\(bytes.count) bytes)" : text
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
