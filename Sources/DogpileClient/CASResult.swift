/// The answer of `cas`.
public enum CASResult: Sendable, Equatable {
    /// `STORED`: the item had the CAS unique given and was replaced.
    case stored
    /// `EXISTS`: the item changed since that CAS unique was read.
    case exists
    /// `NOT_FOUND`: there is no such item (or it is a stale copy).
    case notFound
}
