import Crypto

/// The key scheme both clients share: a region `R` and a user key `K` become the cache key
/// `R:K'`, where `K'` is `K` unless it would not be a valid memcached key, and then the lowercase
/// hex SHA-1 of `K`'s UTF-8 bytes (40 characters).
///
/// `K` is replaced by its SHA-1 when `len(R) + 1 + len(K) > 250` bytes, or when `K` contains a
/// byte `<= 0x20` (space, control characters) or `0x7F`: dogpile.cache's
/// `length_conditional_mangler(250, sha1_mangle_key)`, counted in UTF-8 bytes of the whole key.
/// Region names are 1...200 bytes, with no byte `<= 0x20`, no `0x7F` and no `:`.
public enum KeyMangler {
    /// memcached's key length limit.
    public static let maximumKeyLength = 250
    /// The longest region name accepted.
    public static let maximumRegionNameLength = 200

    /// The cache key for `key` in region `region`.
    public static func cacheKey(region: String, key: String) -> String {
        let bytes = Array(key.utf8)
        let needsHash = region.utf8.count + 1 + bytes.count > maximumKeyLength
            || bytes.contains { $0 <= 0x20 || $0 == 0x7F }
        return region + ":" + (needsHash ? sha1Hex(bytes) : key)
    }

    /// Throws ``DogpileClientError/Code/invalidArgument`` unless `name` can be a region name.
    public static func validateRegionName(_ name: String) throws {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumRegionNameLength,
              !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: ":") }) else {
            throw DogpileClientError(.invalidArgument,
                                     "region name '\(name)' must be 1...\(maximumRegionNameLength) bytes with no spaces, control characters or ':'")
        }
    }

    /// Throws ``DogpileClientError/Code/invalidArgument`` unless `key` is a valid memcached key
    /// (1...250 bytes, no byte <= 0x20, no 0x7F): what the low-level commands accept as is.
    public static func validateKey(_ key: String) throws {
        let bytes = Array(key.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumKeyLength,
              !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw DogpileClientError(.invalidArgument,
                                     "not a memcached key (1...250 bytes, no spaces or control characters)", key: key)
        }
    }

    /// Lowercase hex SHA-1 of `bytes`.
    static func sha1Hex(_ bytes: [UInt8]) -> String {
        let hexDigits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in Insecure.SHA1.hash(data: bytes) {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
