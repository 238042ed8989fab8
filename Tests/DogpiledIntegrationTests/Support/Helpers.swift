import Dogpile
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Starts a server with `arguments`, runs `body`, and always stops the server, which must then
/// exit with status 0 on SIGTERM.
func withServer<T>(_ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: (TestServer) throws -> T) throws -> T {
    let server = try TestServer.start(arguments)
    defer {
        let log = server.logTail()
        if !server.stop() {
            Issue.record("dogpiled did not exit cleanly on SIGTERM (\(server.process.exitDescription)): \(log)", sourceLocation: sourceLocation)
        }
    }
    return try body(server)
}


/// `count` printable bytes derived from `seed`.
func payload(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    var word: UInt64 = 0
    for index in 0..<count {
        if index % 8 == 0 { word = generator.next() }
        bytes[index] = 0x21 + UInt8(truncatingIfNeeded: word % 94)
        word >>= 8
    }
    return bytes
}

/// A `set` request for `key` with `value`.
func setRequest(_ key: String, _ value: [UInt8], flags: UInt32 = 0, noreply: Bool = false) -> [UInt8] {
    Array("set \(key) \(flags) 0 \(value.count)\(noreply ? " noreply" : "")\r\n".utf8) + value + [0x0D, 0x0A]
}

/// The reply to a `get` of one key holding `value`.
func valueReply(_ key: String, _ value: [UInt8], flags: UInt32 = 0) -> [UInt8] {
    Array("VALUE \(key) \(flags) \(value.count)\r\n".utf8) + value + Array("\r\nEND\r\n".utf8)
}

/// Runs `body(index)` on `count` threads at once and waits for all of them; returns their errors.
func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [Error] {
    final class Errors: @unchecked Sendable {
        let lock = NSLock()
        var list: [Error] = []
        func add(_ error: Error) { lock.lock(); list.append(error); lock.unlock() }
    }
    let errors = Errors()
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            do { try body(index) } catch { errors.add(error) }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
    return errors.list
}

/// A fresh private directory under /tmp (short enough for a Unix socket path).
func temporaryDirectory() throws -> String {
    var template = Array("/tmp/dogpiled-XXXXXX".utf8CString)
    guard let path = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    return String(cString: path)
}
