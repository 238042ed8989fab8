import CLibevent

#if canImport(Glibc)
import Glibc
#endif

/// A queue into an ``EventBase`` from other threads.
///
/// Senders append under a mutex and poke an eventfd; the owning loop watches the eventfd and
/// drains the queue in its own thread. This is how new connections reach a worker and how a
/// request parked on one worker is woken from another, without touching another thread's base.
public final class Mailbox<Message>: EventHandler, @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var queue: [Message] = []
    private var spare: [Message] = []
    private let descriptor: Int32
    private var event: Event?
    private let deliver: (Message) -> Void

    /// Creates a mailbox whose messages are handed to `deliver` on `base`'s thread.
    public init(base: EventBase, deliver: @escaping (Message) -> Void) {
        pthread_mutex_init(mutex, nil)
        descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(descriptor >= 0, "eventfd failed")
        self.deliver = deliver
        event = Event(base: base, descriptor: descriptor, what: Event.read | Event.persist, handler: self)
        event?.add()
    }

    deinit {
        event?.free()
        close(descriptor)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Queues `message`; safe from any thread.
    public func post(_ message: Message) {
        pthread_mutex_lock(mutex)
        let wasEmpty = queue.isEmpty
        queue.append(message)
        pthread_mutex_unlock(mutex)
        if wasEmpty {
            var one: UInt64 = 1
            _ = write(descriptor, &one, 8)
        }
    }

    /// Stops watching the eventfd (the loop can then end).
    public func stopWatching() {
        event?.free()
        event = nil
    }

    public func handle(_ event: Event, what: Int16) {
        var counter: UInt64 = 0
        _ = read(descriptor, &counter, 8)
        pthread_mutex_lock(mutex)
        swap(&queue, &spare)
        pthread_mutex_unlock(mutex)
        for message in spare { deliver(message) }
        spare.removeAll(keepingCapacity: true)
    }
}
