import CacheStore
import MemcacheProtocol

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// What a `get` saw.
struct Hit: Equatable {
    var value: [UInt8]
    var flags: UInt32
    var cas: UInt64
    var exptime: UInt32

    var text: String { String(decoding: value, as: UTF8.self) }
}

/// A store on a deterministic clock, with String-friendly wrappers around the raw-buffer API.
/// Exptimes are protocol exptimes, converted with the clock as the server does.
final class TestStore: @unchecked Sendable {
    static let startTime: Int64 = 1_700_000_000
    private(set) var unixNow: Int64 = TestStore.startTime
    let clock: ServerClock
    let store: Store

    init(memoryLimit: Int = 64 * 1024 * 1024, evictionEnabled: Bool = true, shardCount: Int = 64,
         staleTTL: UInt32 = 0, casEnabled: Bool = true,
         itemFits: @escaping @Sendable (Int, UInt32, Int) -> Bool = { _, _, count in count <= 1024 * 1024 }) {
        clock = ServerClock(unixNow: TestStore.startTime)
        store = Store(
            configuration: StoreConfiguration(
                memoryLimit: memoryLimit, evictionEnabled: evictionEnabled, shardCount: shardCount,
                staleTTL: staleTTL, casEnabled: casEnabled, itemFits: itemFits),
            clock: clock)
    }

    /// Moves the clock forward by `seconds`.
    func advance(_ seconds: Int64) {
        unixNow += seconds
        clock.tick(unixNow: unixNow)
    }

    @discardableResult
    func store(_ verb: StoreVerb, _ key: String, _ value: [UInt8], flags: UInt32 = 0, exptime: Int32 = 0,
               cas: UInt64 = 0) -> StoreOutcome {
        let expiry = clock.expiry(fromProtocol: exptime)
        return bytes(key).withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                store.store(verb, key: k, flags: flags, exptime: expiry, casUnique: cas, value: v)
            }
        }
    }

    @discardableResult
    func store(_ verb: StoreVerb, _ key: String, _ value: String, flags: UInt32 = 0, exptime: Int32 = 0,
               cas: UInt64 = 0) -> StoreOutcome {
        store(verb, key, bytes(value), flags: flags, exptime: exptime, cas: cas)
    }

    @discardableResult
    func set(_ key: String, _ value: String, flags: UInt32 = 0, exptime: Int32 = 0) -> StoreOutcome {
        store(.set, key, bytes(value), flags: flags, exptime: exptime)
    }

    /// The item under `key`, retained: the caller releases it (a held segment is never
    /// compacted, which changes what eviction does).
    func item(_ key: String) -> Item? {
        bytes(key).withUnsafeBytes { store.get($0) }
    }

    func get(_ key: String) -> Hit? {
        guard let item = item(key) else { return nil }
        defer { item.release() }
        let value = item.withValue { Array($0) }
        let header = item.header
        return Hit(value: value, flags: header.flags, cas: header.cas, exptime: header.exptime)
    }

    func text(_ key: String) -> String? { get(key)?.text }

    func cas(_ key: String) -> UInt64? { get(key)?.cas }

    func touch(_ key: String, _ exptime: Int32) -> Bool {
        let expiry = clock.expiry(fromProtocol: exptime)
        return bytes(key).withUnsafeBytes { store.touch($0, exptime: expiry) }
    }

    @discardableResult
    func delete(_ key: String) -> Bool {
        bytes(key).withUnsafeBytes { store.delete($0) }
    }

    func incr(_ key: String, _ delta: UInt64) -> ArithmeticOutcome { arithmetic(key, true, delta) }
    func decr(_ key: String, _ delta: UInt64) -> ArithmeticOutcome { arithmetic(key, false, delta) }

    private func arithmetic(_ key: String, _ increment: Bool, _ delta: UInt64) -> ArithmeticOutcome {
        bytes(key).withUnsafeBytes {
            store.arithmetic($0, increment: increment, delta: delta, parse: NumberParsing.parseUInt64)
        }
    }

    var statistics: StoreStatistics { store.statistics() }
}

