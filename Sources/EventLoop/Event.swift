import CLibevent

/// Receives the callbacks of the ``Event``s it registered.
public protocol EventHandler: AnyObject {
    /// `event` fired with libevent's `what` bits (`EV_READ`, `EV_WRITE`, `EV_TIMEOUT`, `EV_SIGNAL`).
    func handle(_ event: Event, what: Int16)
}

/// A libevent `struct event` bound to a handler: a descriptor, a timer or a signal.
///
/// The handler is held unowned: it owns its events and frees them (``free()``) before it goes.
public final class Event {
    private var raw: OpaquePointer?
    private unowned(unsafe) let handler: EventHandler
    /// What the handler registered this event for; lets one handler tell its events apart.
    public let tag: Int

    /// `EV_READ`.
    public static let read = Int16(EV_READ)
    /// `EV_WRITE`.
    public static let write = Int16(EV_WRITE)
    /// `EV_PERSIST`.
    public static let persist = Int16(EV_PERSIST)
    /// `EV_SIGNAL`.
    public static let signal = Int16(EV_SIGNAL)
    /// `EV_TIMEOUT`.
    public static let timeout = Int16(EV_TIMEOUT)

    /// Creates (but does not add) an event for `descriptor` (-1 for a pure timer, a signal number
    /// with ``signal``).
    public init(base: EventBase, descriptor: Int32, what: Int16, handler: EventHandler, tag: Int = 0) {
        self.handler = handler
        self.tag = tag
        let context = Unmanaged.passUnretained(self).toOpaque()
        raw = event_new(base.raw, descriptor, what, eventTrampoline, context)
    }

    deinit { free() }

    /// Starts watching; with `timeoutMilliseconds`, also fires after that long. Returns false if
    /// libevent refused (e.g. `epoll_ctl` failed): the caller must not count on the event firing,
    /// so a connection closes rather than hang unseen.
    @discardableResult
    public func add(timeoutMilliseconds: Int? = nil) -> Bool {
        guard let raw else { return false }
        if let ms = timeoutMilliseconds {
            var interval = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
            return event_add(raw, &interval) == 0
        }
        return event_add(raw, nil) == 0
    }

    /// Makes the event fire on the next loop turn as if its descriptor were ready (`event_active`):
    /// for bytes a TLS session already decrypted, which the socket will not signal again.
    public func activate(_ what: Int16) {
        if let raw { event_active(raw, Int32(what), 0) }
    }

    /// Stops watching.
    public func remove() {
        if let raw { event_del(raw) }
    }

    /// Removes and frees the libevent event; further calls do nothing.
    public func free() {
        if let raw {
            event_free(raw)
            self.raw = nil
        }
    }

    fileprivate func fire(_ what: Int16) {
        // A strong reference for the length of the callback: a handler may drop the last other
        // reference to itself (a connection that closes) while it runs.
        let handler: EventHandler = self.handler
        handler.handle(self, what: what)
    }
}

private func eventTrampoline(_ descriptor: Int32, _ what: Int16, _ context: UnsafeMutableRawPointer?) {
    Unmanaged<Event>.fromOpaque(context!).takeUnretainedValue().fire(what)
}
