/// What `mlockgen` answered for one key (``DogpileClient/mlockgen(_:lease:)``).
public enum MultiLockgenResult: Sendable {
    /// `HIT`: a fresh value.
    case hit(CacheItem)
    /// `STALE`: a stale copy; someone else is regenerating.
    case stale(CacheItem)
    /// `GEN <token>`: regenerate, then store or release the lease. Its
    /// ``GenerationLease/staleItem`` is the value that came with it (a stale copy, or a fresh
    /// value granted early), if any.
    case generate(GenerationLease)
    /// `MISS`: no value, and someone else is regenerating: wait with a plain `lockgen`.
    case miss
    /// No answer for this key: its daemon is dead or failed (``DogpileClientError/Code/daemonDead``,
    /// ``DogpileClientError/Code/connectionFailed``...), or a `SERVER_ERROR` for the key alone.
    case failed(DogpileClientError)
}
