import Testing

@testable import DogpiledServer

/// memcached 1.6.18's `authfile_load` rules.
@Suite("AuthFile")
struct AuthFileTests {
    func load(_ text: String) throws(AuthFileError) -> AuthFile { try AuthFile(contents: Array(text.utf8)) }

    func accepts(_ file: AuthFile, _ user: String, _ password: String) -> Bool {
        Array(user.utf8).withUnsafeBytes { u in Array(password.utf8).withUnsafeBytes { file.check(user: u, password: $0) } }
    }

    @Test("user:password lines; the password may hold colons and ends at CR, LF or the end")
    func entries() throws {
        let file = try load("alice:secret\r\nbob:p:w\ncarol:last")
        #expect(accepts(file, "alice", "secret"))
        #expect(accepts(file, "bob", "p:w"))
        #expect(accepts(file, "carol", "last"))
        #expect(!accepts(file, "alice", "secre"))
        #expect(!accepts(file, "alic", "secret"))
        #expect(!accepts(file, "bob", "secret"))
    }

    @Test("a line without a colon, an empty line included, is malformed")
    func malformed() {
        #expect(throws: AuthFileError.malformed) { try load("nocolon\n") }
        #expect(throws: AuthFileError.malformed) { try load("a:b\n\n") }
        #expect(throws: AuthFileError.malformed) { try load("\n") }
    }

    @Test("an empty file loads with nobody in it; only eight entries are read")
    func limits() throws {
        #expect(try load("").entries.isEmpty)
        let nine = (1...9).map { "u\($0):p\($0)\n" }.joined()
        let file = try load(nine)
        #expect(file.entries.count == 8)
        #expect(accepts(file, "u8", "p8"))
        #expect(!accepts(file, "u9", "p9"))
    }

    @Test("a line longer than 255 bytes ends the file where fgets cut it")
    func longLine() throws {
        let file = try load("a:" + String(repeating: "x", count: 300) + "\nb:c\n")
        #expect(file.entries.count == 1)
        #expect(file.entries[0].password.count == 253)
        #expect(!accepts(file, "b", "c"))
    }

    @Test("a missing file gives memcached's start-up message")
    func missing() {
        #expect(throws: AuthFileError.cannotOpen(errno: 2)) { try AuthFile.load(path: "/nonexistent/auth") }
        #expect(AuthFileError.malformed.message(path: "/f") == "Authfile [/f] has a malformed entry. Should be 'user:password'")
        #expect(AuthFileError.cannotOpen(errno: 2).message(path: "/f") == "Could not open authfile [/f] for reading, error No such file or directory: No such file or directory")
    }
}
