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
    private let accepted: (Int32) -> Void

    /// Starts accepting on `descriptor` in `base`.
    public init(base: EventBase, descriptor: Int32, accepted: @escaping (Int32) -> Void) {
        self.descriptor = descriptor
        self.accepted = accepted
        event = Event(base: base, descriptor: descriptor, what: Event.read | Event.persist, handler: self)
        event?.add()
    }

    /// Stops accepting and closes the socket.
    public func close() {
        event?.free()
        event = nil
        Glibc.close(descriptor)
    }

    public func handle(_ event: Event, what: Int16) {
        // Drain the backlog: one wakeup may stand for many connections.
        for _ in 0..<64 {
            let fd = dogpiled_accept(descriptor)
            if fd < 0 { return }
            accepted(fd)
        }
    }
}
