import ArgumentParser
import CacheStore

/// `--region NAME:memory=64m,exptime=3600,stale_ttl=60,lock_wait_ms=5000`.
enum RegionArgument {
    /// The settings `text` declares.
    static func parse(_ text: String) throws -> RegionSettings {
        guard let colon = text.firstIndex(of: ":") else {
            throw ValidationError("--region \(text): expected NAME:memory=SIZE[,exptime=S][,stale_ttl=S][,lock_wait_ms=MS][,beta=B]")
        }
        var settings = RegionSettings(name: String(text[..<colon]))
        let fields = text[text.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: true)
        for field in fields {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--region \(text): '\(field)' is not key=value") }
            try apply(key: parts[0], value: parts[1], to: &settings, context: "--region \(settings.name)")
        }
        return settings
    }

    /// Sets one region setting; shared by the command line and the config file.
    static func apply(key: String, value: String, to settings: inout RegionSettings, context: String) throws {
        func number<T: FixedWidthInteger>(_ type: T.Type, _ range: ClosedRange<T>) throws -> T {
            guard let parsed = T(value), range.contains(parsed) else {
                throw ValidationError("\(context): \(key)=\(value) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return parsed
        }
        switch key {
        case "memory": settings.memoryBytes = try SizeArgument.bytes(value, flag: "\(context) memory")
        case "exptime": settings.defaultExptime = try number(Int32.self, 0...Int32.max)
        case "stale_ttl": settings.staleTTL = try number(UInt32.self, 0...86_400 * 30)
        case "lock_wait_ms": settings.lockWaitMilliseconds = try number(Int.self, 0...600_000)
        case "beta":
            guard let beta = Double(value), beta.isFinite, (0...100).contains(beta) else {
                throw ValidationError("\(context): beta=\(value) must be a number in 0...100 (0 turns early recompute off)")
            }
            settings.earlyRecomputeBeta = beta
        default:
            throw ValidationError("\(context): unknown region setting '\(key)' (known: memory, exptime, stale_ttl, lock_wait_ms, beta)")
        }
    }
}
