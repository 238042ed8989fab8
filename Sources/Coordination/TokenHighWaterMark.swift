import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The fencing-token high-water mark on disk: one decimal number in `<directory>/fencing-tokens`,
/// the highest token the server may have handed out. A restarted server starts above it, so
/// tokens never go backwards even when the wall clock does (a VM restored from a snapshot, a
/// boot before time sync).
///
/// Writes are durable and atomic: a temporary file is written and fsynced, renamed over the old
/// one, and the directory is fsynced, so a crash leaves either the old mark or the new one.
public struct TokenHighWaterMark: Sendable {
    /// The file holding the mark.
    public let path: String
    private let directory: String
    private static let writes = Atomic<UInt64>(0)

    /// The mark kept in `directory` (which must exist).
    public init(directory: String) {
        self.directory = directory
        self.path = directory.hasSuffix("/") ? directory + "fencing-tokens" : directory + "/fencing-tokens"
    }

    /// The largest mark accepted: 2^63, far above any wall-clock floor and far below overflow.
    public static let largestMark: UInt64 = 1 << 63

    /// The stored mark, or 0 if none was stored yet.
    public func read() throws -> UInt64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return 0 }
            throw failure("cannot read the fencing-token high-water mark")
        }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, 64) }
        guard count >= 0 else { throw failure("cannot read the fencing-token high-water mark") }
        let text = String(decoding: bytes[0..<count], as: UTF8.self).trimmingWhitespace
        guard let mark = UInt64(text) else {
            throw TokenStateError(description: "the fencing-token high-water mark \(path) is corrupt (\"\(text)\"): remove it only if the wall clock is known to be ahead of the previous run's")
        }
        // The wall-clock floor is about 2^61 today; a mark near 2^64 leaves no room for tokens
        // (and would overflow the next block), so it is damage, not history.
        guard mark <= Self.largestMark else {
            throw TokenStateError(description: "the fencing-token high-water mark \(path) is implausibly large (\(mark) > \(Self.largestMark)): tokens would run out; remove it only if the wall clock is known to be ahead of the previous run's")
        }
        return mark
    }

    /// Durably records `mark`.
    public func write(_ mark: UInt64) throws {
        // A name of its own per write: two writers (a background block and a restart's first
        // one, or two tests) must never rename each other's half-written file.
        let temporary = "\(path).\(getpid()).\(Self.writes.wrappingAdd(1, ordering: .relaxed).newValue).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw failure("cannot write the fencing-token high-water mark") }
        let text = Array("\(mark)\n".utf8)
        let written = text.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == text.count, fsync(descriptor) == 0 else {
            let error = failure("cannot write the fencing-token high-water mark")
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot replace the fencing-token high-water mark")
            unlink(temporary)
            throw error
        }
        // The rename itself must survive a crash too.
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            defer { close(directoryDescriptor) }
            guard fsync(directoryDescriptor) == 0 else { throw failure("cannot sync the state directory", at: directory) }
        }
    }

    private func failure(_ what: String, at target: String? = nil) -> TokenStateError {
        TokenStateError(description: "\(what) \(target ?? path): \(String(cString: strerror(errno)))")
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
