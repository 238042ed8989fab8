#if canImport(Glibc)
import Glibc
#endif
import CLibevent

/// Accepts connections on a listening socket and hands each new descriptor (non-blocking,
/// close-on-exec) to `accepted`.
public final class Listener: EventHandler {
    /// The listening descriptor.
    public let descriptor: Int32
    private var event: Event?
    private var resumeTimer: Event?
    private let accepted: (Int32) -> Void

    /// Starts accepting on `descriptor` in `base`.
    public init(base: EventBase, descriptor: Int32, accepted: @escaping (Int32) -> Void) {
        self.descriptor = descriptor
        self.accepted = accepted
        event = Event(base: base, descriptor: descriptor, what: Event.read | Event.persist, handler: self, tag: 0)
        event?.add()
        resumeTimer = Event(base: base, descriptor: -1, what: 0, handler: self, tag: 1)
    }

    /// Stops accepting and closes the socket.
    public func close() {
        event?.free()
        event = nil
        resumeTimer?.free()
        resumeTimer = nil
        Glibc.close(descriptor)
    }

    public func handle(_ event: Event, what: Int16) {
        if event.tag == 1 {
            self.event?.add()
            return
        }
        // Drain the backlog: one wakeup may stand for many connections.
        for _ in 0..<64 {
            let fd = dogpiled_accept(descriptor)
            if fd >= 0 {
                accepted(fd)
                continue
            }
            if errno == EMFILE || errno == ENFILE {
                // Out of descriptors: the pending connection stays readable, so accepting again
                // at once would spin. Pause for a moment, as memcached stops accepting.
                self.event?.remove()
                resumeTimer?.add(timeoutMilliseconds: 100)
            }
            return
        }
    }
}
