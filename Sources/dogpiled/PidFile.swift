#if canImport(Glibc)
import Glibc
#endif

/// `-P`: the process id in a file, removed again on a clean exit.
///
/// Written to a new temporary file in the same directory (created with `O_EXCL | O_NOFOLLOW`,
/// so it can be neither an existing file nor a symlink) and renamed over the path. `rename`
/// replaces a symlink at the path itself instead of writing through it, so a link planted at
/// the pid file's name cannot make dogpiled overwrite the file it points to.
enum PidFile {
    /// A failure to write, with the reason; a run-time failure, not a usage error.
    struct WriteError: Error, CustomStringConvertible {
        let description: String
    }

    static func write(to path: String) throws(WriteError) {
        func failure(_ what: String) -> WriteError {
            WriteError(description: "-P \(path): cannot write pid file: \(what): \(String(cString: strerror(errno)))")
        }
        let temporary = path + ".\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("create \(temporary)") }
        let text = Array("\(getpid())\n".utf8)
        let written = text.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == text.count, close(descriptor) == 0 else {
            let error = failure("write \(temporary)")
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("rename to \(path)")
            unlink(temporary)
            throw error
        }
    }

    /// Removes the pid file if it still names this process (a newer instance may own it now).
    static func remove(_ path: String) {
        var buffer = [UInt8](repeating: 0, count: 32)
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        let count = read(descriptor, &buffer, buffer.count)
        close(descriptor)
        guard count > 0, String(decoding: buffer[0..<count], as: UTF8.self) == "\(getpid())\n" else { return }
        unlink(path)
    }
}
