/// Delivers wake-ups; the server posts them to the waiters' worker mailboxes. The tables call it
/// only after releasing their locks, with every wake-up of one event in one batch.
public protocol WakeSink<Value>: AnyObject, Sendable {
    /// What a stored value is (the server's item).
    associatedtype Value
    /// Answers the parked requests.
    func wake(_ wakes: [Wake<Value>])
}
