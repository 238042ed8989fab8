/// The dogpile lock: elects one creator of a new value while everyone else keeps using the
/// previous one.
///
/// A `Lock` is the Swift form of dogpile's `Lock(mutex, creator, value_and_created_fn,
/// expiretime, async_creator)`. It is cheap and stateless (all state lives in the cache the
/// two functions talk to, and in the shared mutex), so it can be built per call, as in dogpile,
/// or built once and shared between threads.
///
/// What ``value()`` does, by what `valueAndCreatedAt` reports (see ``GenerationDecision``):
/// - **fresh**: returns it without touching the mutex.
/// - **stale** (older than `expiretime`): tries the mutex without blocking. The winner runs
///   the creator (or hands the mutex to the async creator and returns the stale value); every
///   other caller gets the stale value at once and never waits.
/// - **missing** (`NeedRegeneration`, or a creation time ≤ 0 such as -1): blocks on the mutex,
///   then reads again, since the previous holder has usually just created the value; creates
///   it only if it is still needed.
///
/// Creation times are seconds since the Unix epoch, like Python's `time.time()`.
///
/// There is deliberately no `async` variant: waiting for a missing value blocks a thread on
/// the mutex, which must not happen on Swift concurrency's cooperative pool. Call ``value()``
/// from your own threads, or wrap the mutex in something that suspends instead of blocking.
public struct Lock<Value>: Sendable {
    /// A function producing a value together with its creation time (epoch seconds).
    public typealias ValueAndCreatedAt = @Sendable () throws -> (value: Value, createdAt: Double)
    /// A function that takes over a held mutex, starts creating a new value in the
    /// background, and releases the mutex when done.
    public typealias AsyncCreator = @Sendable (any DogpileMutex) -> Void

    /// The mutex that elects the single creator; share one per cached value.
    public let mutex: any DogpileMutex
    /// Seconds a value stays fresh after its creation time; `nil` means it never expires.
    public let expiretime: Double?
    private let creator: ValueAndCreatedAt
    private let valueAndCreatedAt: ValueAndCreatedAt
    private let asyncCreator: AsyncCreator?

    /// Creates a dogpile lock.
    ///
    /// - Parameters:
    ///   - mutex: Elects the creator. All `Lock`s guarding the same value must share it.
    ///   - creator: Creates the value, stores it wherever `valueAndCreatedAt` reads from, and
    ///     returns it with its creation time. Runs with `mutex` held; its errors propagate out
    ///     of ``value()`` after the mutex is released.
    ///   - valueAndCreatedAt: Returns the current value and its creation time, or throws
    ///     ``NeedRegeneration`` when there is none. Other errors propagate.
    ///   - expiretime: Seconds after creation at which a value goes stale; `nil` never expires.
    ///   - asyncCreator: Optional. When a stale value exists and this caller won the mutex, the
    ///     mutex is passed here instead of running `creator`; the stale value is returned at
    ///     once and `asyncCreator` becomes responsible for releasing the mutex.
    public init(
        mutex: any DogpileMutex,
        creator: @escaping ValueAndCreatedAt,
        valueAndCreatedAt: @escaping ValueAndCreatedAt,
        expiretime: Double?,
        asyncCreator: AsyncCreator? = nil
    ) {
        self.mutex = mutex
        self.creator = creator
        self.valueAndCreatedAt = valueAndCreatedAt
        self.expiretime = expiretime
        self.asyncCreator = asyncCreator
    }

    /// Returns the current value, creating it first if this caller is elected to.
    ///
    /// Never blocks when a value exists (fresh or stale); blocks only while the single
    /// creator produces a value that is missing altogether.
    ///
    /// - Throws: Errors from `creator`, and errors other than ``NeedRegeneration`` from
    ///   `valueAndCreatedAt`. The mutex is never left held by a failed call.
    public func value() throws -> Value {
        let observed = try observe()
        // Row 1 of the table: a fresh value is used whoever holds the lease, so the mutex
        // is not even looked at.
        if case .fresh(let value) = observed { return value }

        let gotLease = mutex.acquire(blocking: false)
        switch GenerationDecision.decide(value: observed.state, leaseHeld: !gotLease) {
        case .regenerate:
            return try createHoldingLease(after: observed)
        case .waitForValue:
            _ = mutex.acquire(blocking: true)
            return try createHoldingLease(after: observed)
        case .useStaleValue, .useValue:
            // Someone else is regenerating; hand back the stale value without waiting.
            // (`.useValue` cannot occur here: fresh values returned above.)
            if gotLease { mutex.release() }
            guard let stale = observed.value else {
                preconditionFailure("Dogpile.Lock: a stale reading always carries a value")
            }
            return stale
        }
    }

    /// Finishes a call that holds the mutex: re-checks a missing value, then hands off to the
    /// async creator or runs the creator. Releases the mutex unless it was handed off.
    private func createHoldingLease(after observed: ValueObservation<Value>) throws -> Value {
        var handedOff = false
        defer { if !handedOff { mutex.release() } }

        var current = observed
        if case .missing = observed {
            // While we waited, the previous holder has probably created the value. With the
            // lease now ours, the table says: fresh → use it, anything else → regenerate.
            current = try observe()
            if case .fresh(let value) = current { return value }
        }
        if let asyncCreator, let servable = current.value {
            // There is a value to serve meanwhile, so creation may happen in the background;
            // from here on the async creator owns (and must release) the mutex.
            handedOff = true
            asyncCreator(mutex)
            return servable
        }
        return try creator().value
    }

    private func observe() throws -> ValueObservation<Value> {
        try ValueObservation.read(valueAndCreatedAt, expiretime: expiretime, now: EpochClock.now)
    }
}
