import CLibevent

/// One libevent `event_base`: the loop a single thread runs.
///
/// Not thread-safe, by design: each worker thread owns one base and every event registered on
/// it. Other threads reach a base only through a ``Mailbox``.
public final class EventBase {
    /// The underlying `event_base *`.
    public let raw: OpaquePointer

    /// Creates a base. `locking: false` (the default) skips libevent's internal locks, which is
    /// safe because only the owning thread touches it.
    public init(locking: Bool = false) {
        let config = event_config_new()!
        if !locking { event_config_set_flag(config, Int32(EVENT_BASE_FLAG_NOLOCK.rawValue)) }
        guard let base = event_base_new_with_config(config) else {
            fatalError("event_base_new_with_config failed")
        }
        event_config_free(config)
        raw = base
    }

    deinit { event_base_free(raw) }

    /// The version of the libevent linked at run time (`stats` prints it as `libevent`).
    public static var libeventVersion: String { String(cString: event_get_version()) }

    /// Runs the loop until ``stop()`` is called or no events remain.
    public func run() {
        event_base_loop(raw, 0)
    }

    /// Makes ``run()`` return after the current callbacks finish. Call on the loop's own thread.
    public func stop() {
        event_base_loopbreak(raw)
    }
}
