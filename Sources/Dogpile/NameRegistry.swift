import Synchronization

/// Hands out one shared object per key for as long as anyone holds a strong reference to it.
///
/// The Swift form of dogpile's `NameRegistry`: typically it keeps one ``Lock`` mutex (or
/// ``Dogpile``) per cache key, so that every thread working on a key coordinates on the same
/// object, without keeping an object alive for every key ever seen.
///
/// ```swift
/// let mutexes = NameRegistry<String, InProcessMutex> { _ in InProcessMutex() }
/// let mutex = mutexes.get("user:42")   // the same instance on every thread, while in use
/// ```
///
/// The registry holds its objects weakly: once the last strong reference elsewhere goes, the
/// entry is dead, and the next ``get(_:)`` for that key creates a new object. Dead entries
/// are swept out as the registry grows, so memory stays proportional to the live objects.
///
/// Thread-safe. Creators run under the registry's lock (so each key gets exactly one object),
/// must be quick, and must not call back into the same registry.
public final class NameRegistry<Key: Hashable & Sendable, Object: AnyObject & Sendable>: Sendable {
    private struct WeakEntry {
        weak var object: Object?
    }

    private struct State {
        var entries: [Key: WeakEntry] = [:]
        /// Entry count at which dead entries are next swept out.
        var sweepAt = NameRegistry.minimumSweep
    }

    private static var minimumSweep: Int { 64 }

    private let creator: @Sendable (Key) -> Object
    private let state = Mutex(State())

    /// Creates an empty registry.
    ///
    /// - Parameter creator: Makes the object for a key the first time it is asked for (and
    ///   again after the previous object for it has been released).
    public init(creator: @escaping @Sendable (Key) -> Object) {
        self.creator = creator
    }

    /// Returns the live object for `key`, creating it with the registry's creator if there
    /// is none.
    public func get(_ key: Key) -> Object {
        get(key, orCreate: creator)
    }

    /// Returns the live object for `key`, creating it with `make` if there is none.
    ///
    /// dogpile passes extra arguments through `get` to its creator; in Swift, capture them in
    /// `make` instead. `make` is only called when no live object exists.
    public func get(_ key: Key, orCreate make: (Key) -> Object) -> Object {
        state.withLock { state in
            if let live = state.entries[key]?.object { return live }
            let object = make(key)
            state.entries[key] = WeakEntry(object: object)
            if state.entries.count >= state.sweepAt {
                state.entries = state.entries.filter { $0.value.object != nil }
                state.sweepAt = Swift.max(Self.minimumSweep, state.entries.count * 2)
            }
            return object
        }
    }

    /// Whether a live object is registered for `key`. Does not create one.
    public func contains(_ key: Key) -> Bool {
        state.withLock { $0.entries[key]?.object != nil }
    }

    /// How many keys currently have a live object.
    public var count: Int {
        state.withLock { state in state.entries.values.reduce(0) { $0 + ($1.object == nil ? 0 : 1) } }
    }

    /// Entries stored, dead or alive: lets tests see that dead entries are swept.
    var storedEntryCount: Int {
        state.withLock { $0.entries.count }
    }
}
