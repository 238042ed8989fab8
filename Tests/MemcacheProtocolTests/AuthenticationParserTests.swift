import MemcacheProtocol
import Testing

/// memcached 1.6.18's `try_read_command_asciiauth`, decoded without a socket.
@Suite("AuthenticationParser")
struct AuthenticationParserTests {
    typealias Outcome = AuthenticationParser.Outcome

    func parse(_ text: [UInt8]) -> Outcome {
        text.withUnsafeBytes { AuthenticationParser.parse($0) }
    }

    func credentials(_ text: String) -> (String, String, Int)? {
        let data = bytes(text)
        guard case .credentials(let user, let password, let consumed) = parse(data) else { return nil }
        return (String(decoding: data[user], as: UTF8.self), String(decoding: data[password], as: UTF8.self), consumed)
    }

    @Test("the set with user and password yields both, whatever the key, flags and exptime")
    func credentialsFound() throws {
        let found = try #require(credentials("set anything 5 100 12\r\nalice secret\r\nget x\r\n"))
        #expect(found.0 == "alice" && found.1 == "secret" && found.2 == 37)
        let spaced = try #require(credentials("  set k 0 0 13 noreply\r\nalice  secret\r\n"))
        #expect(spaced.0 == "alice" && spaced.1 == "secret")
        let extra = try #require(credentials("set k 0 0 16\nalice secret xyz\r\n"))
        #expect(extra.0 == "alice" && extra.1 == "secret")
    }

    @Test("anything but set with a size is unauthenticated, and the line is consumed")
    func otherLines() {
        #expect(parse(bytes("get foo\r\n")) == .unauthenticated(consumed: 9))
        #expect(parse(bytes("quit\r\nmore")) == .unauthenticated(consumed: 6))
        #expect(parse(bytes("s\n")) == .unauthenticated(consumed: 2))
        #expect(parse(bytes("add a 0 0 12\r\n")) == .unauthenticated(consumed: 14))
        #expect(parse(bytes("set a 0 0\r\n")) == .unauthenticated(consumed: 11))
        #expect(parse(bytes("set a 0 0 x\r\n")) == .unauthenticated(consumed: 13))
        #expect(parse(bytes("set a 0 0 -1\r\n")) == .unauthenticated(consumed: 14))
        #expect(parse(bytes("set a 0 0 99999999999999999999\r\n")) == .unauthenticated(consumed: 32))
        #expect(parse(bytes("set\ta 0 0 12\r\n")) == .unauthenticated(consumed: 14))
    }

    @Test("the data must end in CRLF and hold two words")
    func badData() {
        #expect(parse(bytes("set a 0 0 5\r\nalicexx")) == .badTermination(consumed: 20))
        #expect(parse(bytes("set a 0 0 5\r\nalice\r\n")) == .badTokenFormat(consumed: 20))
        #expect(parse(bytes("set a 0 0 12\r\nalice:secret\r\n")) == .badTokenFormat(consumed: 28))
        #expect(parse(bytes("set a 0 0 12\r\n\0lice secret\r\n")) == .badTokenFormat(consumed: 28))
    }

    @Test("incomplete requests wait; overlong ones close")
    func bounds() {
        #expect(parse(bytes("\n")) == .needMoreData(total: 0))
        #expect(parse(bytes("set a 0 0 12\r\nalice")) == .needMoreData(total: 28))
        #expect(parse([UInt8](repeating: UInt8(ascii: "x"), count: 2048)) == .needMoreData(total: 0))
        #expect(parse([UInt8](repeating: UInt8(ascii: "x"), count: 2049)) == .close)
        // A block larger than memcached's 16 KB read buffer waits until 16 KB are in, then closes.
        let header = bytes("set a 0 0 20000\r\n")
        #expect(parse(header) == .needMoreData(total: header.count + 16 * 1024))
        #expect(parse(header + [UInt8](repeating: 0x79, count: 16 * 1024)) == .close)
        #expect(parse(header + [UInt8](repeating: 0x79, count: 20002)) == .close)
    }
}
