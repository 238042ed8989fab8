/// The mutex a ``Lock`` uses to elect the single creator of a new value.
///
/// This is dogpile's "object with `acquire()` and `release()`": anything that can be held by
/// one party at a time. The default is ``InProcessMutex``; a cross-process implementation
/// (a file lock, a lock held in a cache server) can conform as well.
///
/// Conformers must allow ``release()`` from a thread other than the one that acquired the
/// mutex: an async creator (see ``Lock/init(mutex:creator:valueAndCreatedAt:expiretime:asyncCreator:)``)
/// takes over a held mutex and releases it when its background work is done.
public protocol DogpileMutex: AnyObject, Sendable {
    /// Takes the mutex.
    ///
    /// - Parameter blocking: When `true`, waits until the mutex is free and then returns
    ///   `true`. When `false`, returns at once: `true` if the mutex was taken, `false` if
    ///   someone else holds it.
    /// - Returns: Whether the caller now holds the mutex.
    func acquire(blocking: Bool) -> Bool

    /// Gives the mutex up. Releasing a mutex that is not held is a programming error.
    func release()
}
