import Synchronization

/// dogpile's original, object-based API: the `Dogpile` remembers when its value was created.
///
/// Deprecated in dogpile itself in favour of ``Lock``, and here a thin wrapper around it,
/// kept for the usage pattern in dogpile's README:
///
/// ```swift
/// let dogpile = Dogpile(expiretime: 3600)
/// try dogpile.acquire(creator: { resource.rebuild() })   // blocks only the first time
/// resource.use()
/// ```
///
/// The first ``acquire(creator:)`` runs the creator while concurrent callers wait; after
/// that, once `expiretime` has passed, one caller re-runs it while the others carry on with
/// the old resource. A `Dogpile` is meant to live as long as its resource, shared by all
/// the threads that use it.
public final class Dogpile: Sendable {
    /// Seconds the value stays fresh after creation; `nil` means it never expires.
    public let expiretime: Double?
    /// The mutex electing the creator, shared by every ``acquire(creator:value:)``.
    public let mutex: any DogpileMutex
    private let created: Mutex<Double>

    /// Creates a dogpile.
    ///
    /// - Parameters:
    ///   - expiretime: Seconds after creation at which the value goes stale; `nil` never expires.
    ///   - initialized: When `true`, the value counts as just created (dogpile's `init=True`),
    ///     so the first acquire does not run the creator.
    ///   - mutex: The mutex electing the creator; an ``InProcessMutex`` by default.
    public init(expiretime: Double?, initialized: Bool = false, mutex: any DogpileMutex = InProcessMutex()) {
        self.expiretime = expiretime
        self.mutex = mutex
        self.created = Mutex(initialized ? EpochClock.now() : -1)
    }

    /// When the value was last created, in seconds since the Unix epoch. -1 (the initial
    /// state) means there is no value and the next acquire must create it; set it to -1 to
    /// force a regeneration.
    public var createdTime: Double {
        get { created.withLock { $0 } }
        set { created.withLock { $0 = newValue } }
    }

    /// Whether the creator has completed at least once (``createdTime`` is positive).
    public var hasValue: Bool { createdTime > 0 }

    /// Whether there is no value or it is older than ``expiretime``.
    public var isExpired: Bool {
        let createdTime = self.createdTime
        guard createdTime > 0 else { return true }
        guard let expiretime else { return false }
        return EpochClock.now() - createdTime > expiretime
    }

    /// Returns the value, first running `creator` if this caller is elected to.
    ///
    /// - Parameters:
    ///   - creator: Builds the value and stores it wherever `value` reads from; its return is
    ///     handed to this caller. ``createdTime`` is set when it succeeds.
    ///   - value: Reads the current (possibly stale) value. It may throw
    ///     ``NeedRegeneration`` to force a regeneration, as when the value was evicted.
    /// - Throws: Errors from either function other than ``NeedRegeneration``.
    public func acquire<Value>(
        creator: @escaping @Sendable () throws -> Value,
        value: @escaping @Sendable () throws -> Value
    ) throws -> Value {
        let lock = Lock<Value>(
            mutex: mutex,
            creator: {
                let created = try creator()
                let now = EpochClock.now()
                self.createdTime = now
                return (created, now)
            },
            valueAndCreatedAt: { (try value(), self.createdTime) },
            expiretime: expiretime
        )
        return try lock.value()
    }

    /// Runs `creator` if this caller is elected to: the README's form, where the creator
    /// rebuilds some shared resource. Blocks only while there has never been a value.
    ///
    /// - Throws: Errors from `creator`.
    public func acquire(creator: @escaping @Sendable () throws -> Void) throws {
        try acquire(creator: creator, value: {})
    }
}
