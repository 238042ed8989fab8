#if canImport(Glibc)
import Glibc
#endif

/// The credentials of memcached's `-Y <authfile>`: one `user:password` per line, at most eight
/// entries (later lines are ignored, as in memcached), read the way memcached 1.6.18's
/// `authfile_load` reads them.
///
/// memcached reads the file with `fgets` into 256-byte pieces: a piece without a `:` (an empty
/// line too) makes the whole file malformed; the password ends at `\n`, `\r` or a NUL; a piece
/// that ends without a newline (the last line, or a line longer than 255 bytes) ends the file.
public struct AuthFile: Sendable, Equatable {
    /// memcached's `MAX_ENTRIES`.
    public static let maximumEntries = 8
    /// memcached's `MAX_ENTRY_LEN`: `fgets` reads a line in pieces of at most 255 bytes.
    static let pieceBytes = 255

    /// One `user:password` entry.
    public struct Entry: Sendable, Equatable {
        /// The user name (bytes before the first `:`).
        public var user: [UInt8]
        /// The password.
        public var password: [UInt8]
    }

    /// The entries, in file order.
    public private(set) var entries: [Entry]

    /// Parses the file's contents.
    public init(contents: [UInt8]) throws(AuthFileError) {
        var entries: [Entry] = []
        var start = 0
        while start < contents.count, entries.count < Self.maximumEntries {
            // One fgets: up to and including a newline, at most 255 bytes.
            var end = start
            while end < contents.count, end - start < Self.pieceBytes {
                end += 1
                if contents[end - 1] == UInt8(ascii: "\n") { break }
            }
            let piece = contents[start..<end]
            // The user scan stops at a NUL (fgets' string end) or the piece's end.
            let stringEnd = piece.firstIndex(of: 0) ?? end
            guard let colon = piece[start..<stringEnd].firstIndex(of: UInt8(ascii: ":")) else {
                throw .malformed
            }
            var passwordEnd = colon + 1
            while passwordEnd < stringEnd, contents[passwordEnd] != UInt8(ascii: "\n"), contents[passwordEnd] != UInt8(ascii: "\r") {
                passwordEnd += 1
            }
            entries.append(Entry(user: Array(contents[start..<colon]), password: Array(contents[(colon + 1)..<passwordEnd])))
            // A password that ran to the string's end was the last entry memcached reads.
            if passwordEnd == stringEnd { break }
            start = end
        }
        self.entries = entries
    }

    /// Reads and parses `path`.
    public static func load(path: String) throws(AuthFileError) -> AuthFile {
        guard let file = fopen(path, "r") else { throw .cannotOpen(errno: errno) }
        defer { fclose(file) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { contents += chunk[0..<count] }
            if count < chunk.count {
                if ferror(file) != 0 { throw .cannotOpen(errno: errno) }
                break
            }
        }
        return try AuthFile(contents: contents)
    }

    /// Whether `user` and `password` match an entry. Compares every byte of an entry of the
    /// right lengths, so the time taken does not tell how much of a password matched.
    public func check(user: UnsafeRawBufferPointer, password: UnsafeRawBufferPointer) -> Bool {
        var matched = false
        for entry in entries where entry.user.count == user.count && entry.password.count == password.count {
            var difference: UInt8 = 0
            for index in 0..<user.count { difference |= entry.user[index] ^ user[index] }
            for index in 0..<password.count { difference |= entry.password[index] ^ password[index] }
            if difference == 0 { matched = true }
        }
        return matched
    }
}

/// Why an auth file could not be loaded; the descriptions are memcached's start-up messages.
public enum AuthFileError: Error, Equatable, Sendable {
    /// `fopen` or reading failed.
    case cannotOpen(errno: Int32)
    /// A line without `user:password`.
    case malformed

    /// memcached 1.6.18's message for `path`.
    public func message(path: String) -> String {
        switch self {
        case .cannotOpen(let code):
            let reason = String(cString: strerror(code))
            return "Could not open authfile [\(path)] for reading, error \(reason): \(reason)"
        case .malformed:
            return "Authfile [\(path)] has a malformed entry. Should be 'user:password'"
        }
    }
}
