import CacheStore
import Coordination
import MemcacheProtocol

/// The library layers a dogpiled server builds in `ServerState`, with its defaults: one region
/// set over a 64 MiB store with 64 shards, a lease table and the parser limits. No event loop,
/// no connection: the benchmarks call these layers directly, as the connection code does.
public final class ServerLayers: @unchecked Sendable {
    /// The regions (only `default`, as a server started without regions has).
    public let regions: RegionSet
    /// The generation-lease table `lockgen` and `setgen` go through.
    public let leases: LeaseTable<HeldItem>
    /// Where the lease table's wake-ups go.
    public let sink: CountingWakeSink
    /// The clock the store's items expire on.
    public let clock: ServerClock
    /// The parser's limits.
    public let limits: TextParser.Limits

    /// Builds the layers; `memoryLimit` is `-m` in bytes.
    public init(memoryLimit: Int = 64 * 1024 * 1024) {
        let limits = TextParser.Limits()
        let configuration = StoreConfiguration(
            memoryLimit: memoryLimit, shardCount: 64,
            itemFits: { keyCount, flags, valueCount in
                limits.itemFits(keyLength: keyCount, flags: flags, valueLength: valueCount)
            })
        let clock = ServerClock()
        self.clock = clock
        self.limits = limits
        do {
            self.regions = try RegionSet(settings: [], totalMemory: memoryLimit, base: configuration, clock: clock)
        } catch {
            fatalError("benchmark region set: \(error)")
        }
        let sink = CountingWakeSink()
        self.sink = sink
        // Tokens from a fixed start: no state directory, no disk write while measuring.
        let context = LockTableContext<HeldItem>(
            tokens: FencingTokens(start: 1), budget: LockBudget(limit: 1 << 20),
            statistics: CoordinationStatistics(), sink: sink)
        self.leases = LeaseTable(context: context)
    }
}
