#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole small text file with the C library, so the config reader needs no Foundation.
enum TextFile {
    /// Why a file could not be read.
    struct ReadError: Error {
        var reason: String
    }

    /// Larger than any config file; a path such as /dev/zero is refused rather than read forever.
    static let maximumBytes = 1 << 20

    /// The file's text, which must be UTF-8 and at most ``maximumBytes``.
    static func contents(ofPath path: String) throws(ReadError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ReadError(reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= maximumBytes else { throw ReadError(reason: "larger than \(maximumBytes >> 20) MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ReadError(reason: "not UTF-8 text") }
        return text
    }
}
