import Foundation

/// The value format both clients share: what dogpile.cache 1.5 stores for a region with a JSON
/// serializer (`serializer=lambda v: json.dumps(v).encode()`), with memcached flags 0:
///
/// ```
/// {"ct": 1764633600.123456, "v": 2}|{"id": 42, "name": "Ada"}
/// ```
///
/// The metadata is byte for byte what Python's `json.dumps` writes: `ct` is the creation time in
/// Unix seconds (a float, shortest round-trip digits, as Python's `repr`), `v` is dogpile's value
/// version, 2. The payload is the value's `Codable` JSON re-spaced the way `json.dumps` spaces it
/// (`", "` and `": "`, non-ASCII as `\uXXXX`), with object keys sorted (Swift's encoder has no
/// declaration order; readers do not care). Integral doubles are written as `1`, not `1.0`.
///
/// Reading splits at the first `|`, accepts any spacing in the metadata, and treats a value whose
/// metadata is not JSON or whose `v` is not 2 as no value at all, as dogpile.cache does.
public enum ValueCodec {
    /// The memcached flags the format is stored with.
    public static let flags: UInt32 = 0
    /// dogpile.cache's value version (`dogpile.cache.api.CachedValue`'s `"v"`).
    public static let version = 2

    /// A value read back, with its creation time.
    public struct Decoded<Value>: Sendable where Value: Sendable {
        /// The payload.
        public var value: Value
        /// The `ct` metadata: when the value was created, in Unix seconds.
        public var createdAt: Double
    }

    /// `{"ct": <createdAt>, "v": 2}|` followed by `value` as JSON.
    public static func encode<Value: Encodable>(_ value: Value, createdAt: Double = Date().timeIntervalSince1970) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let compact: Data
        do {
            compact = try encoder.encode(value)
        } catch {
            throw DogpileClientError(.valueFormat, "cannot encode \(Value.self) as JSON: \(error)")
        }
        return Array(metadata(createdAt: createdAt).utf8) + [UInt8(ascii: "|")] + PythonJSONStyle.respace(Array(compact))
    }

    /// The metadata prefix as dogpile.cache writes it, without the `|`.
    public static func metadata(createdAt: Double) -> String {
        "{\"ct\": \(pythonFloat(createdAt)), \"v\": \(version)}"
    }

    /// The value in `bytes`, or nil when the bytes are not this format (no `|`, metadata not
    /// JSON, `v` not 2, payload not JSON): a miss, as both clients treat it. Throws
    /// ``DogpileClientError/Code/valueFormat`` when the payload is valid JSON of another shape
    /// than `Value` (a programming error: two writers disagree on the type).
    public static func decode<Value: Decodable & Sendable>(_ bytes: [UInt8], as type: Value.Type = Value.self) throws -> Decoded<Value>? {
        guard let bar = bytes.firstIndex(of: UInt8(ascii: "|")) else { return nil }
        guard let metadata = try? JSONSerialization.jsonObject(with: Data(bytes[..<bar])) as? [String: Any],
              let version = metadata["v"] as? NSNumber, version.doubleValue == Double(Self.version),
              !(metadata["v"] is Bool) else { return nil }
        // `ct` is dogpile's; a writer that left it out still wrote a version-2 value (Python reads it).
        let createdAt = (metadata["ct"] as? NSNumber)?.doubleValue ?? 0
        do {
            let value = try JSONDecoder().decode(Value.self, from: Data(bytes[(bar + 1)...]))
            return Decoded(value: value, createdAt: createdAt)
        } catch {
            let payload = Data(bytes[(bar + 1)...])
            guard (try? JSONSerialization.jsonObject(with: payload, options: [.fragmentsAllowed])) != nil else { return nil }
            throw DogpileClientError(.valueFormat, "payload does not decode as \(Value.self): \(error)")
        }
    }

    /// A float as Python's `repr` writes it (shortest round-trip digits, always a `.` or an exponent).
    static func pythonFloat(_ value: Double) -> String {
        // Swift's description is also shortest round-trip, and writes `1.0`, `1e-05`, `1e+16`
        // like Python does in the ranges a Unix time can take.
        "\(value)"
    }
}
