/// Every region of the cache and the rule that maps a key to its region: the text before the
/// first `:` names a declared region; every other key belongs to `default`.
public final class RegionSet: Sendable {
    /// The region that holds every key no other region claims.
    public let defaultRegion: Region
    /// All regions, `default` first.
    public let all: [Region]
    private let prefixes: [[UInt8]]
    private let longestPrefix: Int

    /// Errors in region declarations.
    public struct DeclarationError: Error, CustomStringConvertible {
        /// What is wrong.
        public let description: String
    }

    /// Builds the regions. Named regions take their budgets out of `totalMemory`; `default` gets
    /// what is left (`settings` may include an entry named `default` for its other settings).
    public init(settings: [RegionSettings], totalMemory: Int, base: StoreConfiguration, clock: ServerClock) throws {
        var defaultSettings = RegionSettings(name: "default")
        var named: [RegionSettings] = []
        var seen = Set<String>()
        for entry in settings {
            guard !entry.name.isEmpty, !entry.name.contains(":"), !entry.name.contains(" ") else {
                throw DeclarationError(description: "region name '\(entry.name)' must be non-empty, without ':' or spaces")
            }
            guard seen.insert(entry.name).inserted else {
                throw DeclarationError(description: "region '\(entry.name)' is declared twice")
            }
            if entry.name == "default" { defaultSettings = entry } else { named.append(entry) }
        }
        let carved = named.reduce(0) { $0 + ($1.memoryBytes ?? 0) }
        let remainder = totalMemory - carved
        guard remainder >= 1024 * 1024 else {
            throw DeclarationError(description: "region budgets (\(carved) bytes) leave less than 1 MiB of -m (\(totalMemory) bytes) for the default region")
        }
        let casSequence = CASSequence()
        var regions = [Region(index: 0, settings: defaultSettings, memoryLimit: remainder, base: base, clock: clock, casSequence: casSequence)]
        for entry in named {
            guard let bytes = entry.memoryBytes, bytes > 0 else {
                throw DeclarationError(description: "region '\(entry.name)' needs a memory budget")
            }
            regions.append(Region(index: regions.count, settings: entry, memoryLimit: bytes, base: base, clock: clock, casSequence: casSequence))
        }
        all = regions
        defaultRegion = regions[0]
        prefixes = regions.map { Array($0.name.utf8) }
        longestPrefix = prefixes.dropFirst().map(\.count).max() ?? 0
    }

    /// The region `key` belongs to.
    @inline(__always)
    public func region(for key: UnsafeRawBufferPointer) -> Region {
        guard all.count > 1 else { return defaultRegion }
        let limit = min(key.count, longestPrefix + 1)
        var colon = -1
        for index in 0..<limit where key[index] == UInt8(ascii: ":") {
            colon = index
            break
        }
        guard colon > 0 else { return defaultRegion }
        let prefix = UnsafeRawBufferPointer(rebasing: key[0..<colon])
        for index in 1..<all.count where prefixes[index].elementsEqual(prefix) {
            return all[index]
        }
        return defaultRegion
    }

    /// The region called `name`.
    public func region(named name: UnsafeRawBufferPointer) -> Region? {
        all.first { Array($0.name.utf8).elementsEqual(name) }
    }
}
