import Synchronization

/// The counter CAS uniques come from: strictly increasing, shared by every region of a server.
public final class CASSequence: Sendable {
    private let last = Atomic<UInt64>(0)

    /// A new counter; the first unique is 1.
    public init() {}

    /// The next unique.
    @inline(__always)
    func next() -> UInt64 { last.wrappingAdd(1, ordering: .relaxed).newValue }

    /// The last unique handed out.
    var current: UInt64 { last.load(ordering: .relaxed) }
}
