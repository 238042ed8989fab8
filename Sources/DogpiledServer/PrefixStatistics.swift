import Synchronization

/// memcached's `stats detail`: gets, hits, sets and deletes per key prefix (the bytes before the
/// first delimiter, `-D`, `:` by default; keys without one are not counted), collected while
/// `stats detail on` (or `-D`) has turned it on.
public final class PrefixStatistics: Sendable {
    /// The operations that are counted.
    enum Operation {
        case get(hit: Bool)
        case set
        case delete
    }

    private let enabled: Atomic<Bool>
    private let delimiter: UInt8
    private let table = PThreadLocked(PrefixTable())

    /// Statistics split at `delimiter`, collecting from the start if `enabled`.
    public init(delimiter: UInt8, enabled: Bool) {
        self.delimiter = delimiter
        self.enabled = Atomic(enabled)
    }

    /// Whether collection is on (`stats detail on|off`).
    public var isEnabled: Bool {
        get { enabled.load(ordering: .relaxed) }
        set { enabled.store(newValue, ordering: .relaxed) }
    }

    /// Counts `operation` on `key` if collection is on and the key has a prefix.
    @inline(__always)
    func record(_ key: UnsafeRawBufferPointer, _ operation: Operation) {
        guard enabled.load(ordering: .relaxed) else { return }
        recordSlowly(key, operation)
    }

    private func recordSlowly(_ key: UnsafeRawBufferPointer, _ operation: Operation) {
        // As memcached: the prefix ends at the first delimiter; a NUL ends the search.
        var length = 0
        while length < key.count && key[length] != delimiter {
            if key[length] == 0 { return }
            length += 1
        }
        guard length < key.count else { return }
        let prefix = UnsafeRawBufferPointer(rebasing: key[0..<length])
        table.withLock { table in
            guard let index = table.index(of: prefix) else { return }
            table.update(index) { entry in
                switch operation {
                case .get(let hit):
                    entry.gets &+= 1
                    if hit { entry.hits &+= 1 }
                case .set: entry.sets &+= 1
                case .delete: entry.deletes &+= 1
                }
            }
        }
    }

    /// Forgets every prefix (`stats reset`, as memcached's `stats_prefix_clear`).
    func clear() {
        table.withLock { $0 = PrefixTable() }
    }

    /// `stats detail dump`: `PREFIX <prefix> get <n> hit <n> set <n> del <n>` lines, then `END`.
    func dump() -> [UInt8] {
        var text: [UInt8] = []
        table.withLock { table in
            for entry in table.entries {
                text += Array("PREFIX ".utf8) + entry.prefix
                text += Array(" get \(entry.gets) hit \(entry.hits) set \(entry.sets) del \(entry.deletes)\r\n".utf8)
            }
        }
        return text + Array("END\r\n".utf8)
    }
}
