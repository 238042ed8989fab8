import ArgumentParser
import DogpiledConfiguration

/// Sizes on the command line: a number with an optional k/m/g suffix, as memcached takes them.
enum SizeArgument {
    /// Bytes from e.g. `1m`, `512k`, `1048576`.
    static func bytes(_ text: String, flag: String) throws -> Int {
        guard let bytes = SizeParser.bytes(text) else {
            throw ValidationError("\(flag) \(text): expected a size such as 1048576, 512k or 1m")
        }
        return bytes
    }

    /// Megabytes from e.g. `64` (plain numbers are megabytes) or `1g`.
    static func megabytes(_ text: String, flag: String) throws -> Int {
        if let value = Int(text) {
            guard value > 0 else { throw ValidationError("\(flag) \(text): must be at least 1") }
            return value
        }
        let bytes = try bytes(text, flag: flag)
        guard bytes >= 1024 * 1024 else { throw ValidationError("\(flag) \(text): must be at least 1m") }
        return bytes / (1024 * 1024)
    }
}
