/// A live item seen through its shard's lock, for the meta commands: the header fields `mg`
/// reports and the few it changes (TTL, the stale and win marks, the LRU position). Valid only
/// inside the ``Store`` call that hands it out.
public struct MetaItem {
    /// The item; retain it to send its value after the lock is released.
    public let item: Item
    unowned(unsafe) let shard: Shard
    /// The server clock reading the call runs at.
    public let now: UInt32
    /// Whether clients see CAS uniques (not under `-C`).
    let casVisible: Bool

    /// Expiry on the server clock; 0 is never.
    public var exptime: UInt32 {
        get { item.header.exptime }
        nonmutating set { item.header.exptime = newValue }
    }

    /// Marked stale by `md I` / `ms I` (`X`).
    public var isStale: Bool { item.header.status & Item.Status.metaStale != 0 }

    /// A recache win was already handed out (`Z`).
    public var winTokenSent: Bool { item.header.status & Item.Status.winTokenSent != 0 }

    /// Records that the recache win was handed out.
    public func markWinTokenSent() { item.header.status |= Item.Status.winTokenSent }

    /// Stored under a base64 key.
    public var hasBinaryKey: Bool { item.header.status & Item.Status.binaryKey != 0 }

    /// Read at least once before (`h`).
    public var fetched: Bool { item.header.status & Item.Status.fetched != 0 }

    /// When it was last bumped in its LRU, on the server clock (`l`).
    public var lastAccess: UInt32 { item.header.lastAccess }

    /// The CAS unique as clients see it: 0 under `-C`.
    public var cas: UInt64 { casVisible ? item.header.cas : 0 }

    /// Value length.
    public var valueLength: Int { Int(item.header.valueCount) }

    /// Client flags.
    public var clientFlags: UInt32 { item.header.flags }

    /// Moves the item to its LRU head and marks it fetched, as a read does.
    public func bump() { shard.bump(item, now: now) }
}
