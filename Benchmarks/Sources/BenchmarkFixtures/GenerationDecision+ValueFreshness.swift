import CacheStore
import Dogpile

extension GenerationDecision.ValueState {
    /// The lease table's view of a store lookup, mapped as the server maps it
    /// (`Connection+Locking.swift`, which keeps its mapping internal to the server).
    public init(_ freshness: ValueFreshness) {
        switch freshness {
        case .fresh: self = .fresh
        case .expiring: self = .expiring
        case .stale: self = .stale
        case .missing: self = .missing
        }
    }
}
