import Testing

@testable import EventLoop

#if canImport(Glibc)
import Glibc
#endif

/// The libevent and socket calls whose failure must be seen, and the socket options set on
/// accepted connections.
@Suite("Event registration and socket options")
struct EventRegistrationTests {
    /// A connected pair of Unix stream sockets.
    func socketPair() -> (Int32, Int32) {
        var descriptors: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors) == 0)
        return (descriptors[0], descriptors[1])
    }

    @Test("a failed event_add is reported, not swallowed")
    func eventAddFailure() {
        final class Handler: EventHandler {
            func handle(_ event: Event, what: Int16) {}
        }
        let base = EventBase()
        let handler = Handler()
        // epoll_ctl refuses a regular file (EPERM). (A closed descriptor would do too, but
        // tests running in parallel may reopen its number before the add.)
        var template = Array("/tmp/dogpiled-event-XXXXXX".utf8CString)
        let file = mkstemp(&template)
        #expect(file >= 0)
        defer {
            close(file)
            unlink(template)
        }
        let event = Event(base: base, descriptor: file, what: Event.read | Event.persist, handler: handler)
        #expect(!event.add())
        event.free()
        let timer = Event(base: base, descriptor: -1, what: 0, handler: handler)
        #expect(timer.add(timeoutMilliseconds: 10))
        timer.free()
    }

    @Test("TCP keepalive is set with the configured probe times")
    func keepalive() {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        #expect(TCPKeepalive(idleSeconds: 45, intervalSeconds: 7, count: 4).apply(to: descriptor))
        func option(_ level: Int32, _ name: Int32) -> Int32 {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, level, name, &value, &length)
            return value
        }
        #expect(option(SOL_SOCKET, SO_KEEPALIVE) == 1)
        #expect(option(Int32(IPPROTO_TCP), TCP_KEEPIDLE) == 45)
        #expect(option(Int32(IPPROTO_TCP), TCP_KEEPINTVL) == 7)
        #expect(option(Int32(IPPROTO_TCP), TCP_KEEPCNT) == 4)
        let (unixA, unixB) = socketPair()
        defer { close(unixA); close(unixB) }
        #expect(!TCPKeepalive(idleSeconds: 45, intervalSeconds: 7, count: 4).apply(to: unixA))
    }
}
