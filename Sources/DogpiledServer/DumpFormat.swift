import CacheStore

/// The line formats of memcached's item dumps.
enum DumpFormat {
    /// memcached builds a `stats cachedump` reply of at most 2 MB.
    static let cachedumpLimit = 2 * 1024 * 1024

    /// `ITEM <key> [<bytes> b; <exptime> s]\r\n`: the key's bytes as they are, the exptime as a
    /// Unix time, 0 for never.
    static func cachedumpLine(_ entry: DumpEntry, clock: ServerClock) -> [UInt8] {
        let expiry = entry.snapshot.exptime == 0 ? 0 : clock.unixTime(of: entry.snapshot.exptime)
        return Array("ITEM ".utf8) + entry.key + Array(" [\(entry.valueLength) b; \(expiry) s]\r\n".utf8)
    }

    /// `key=<uri-encoded key> exp=<unix time or -1> la=<unix time> cas=<n> fetch=yes|no
    /// cls=<id> size=<bytes>\n`, appended to `text`.
    static func metadumpLine(_ entry: DumpEntry, clock: ServerClock, into text: inout String) {
        let snapshot = entry.snapshot
        text += "key="
        uriEncode(entry.key, into: &text)
        let expiry = snapshot.exptime == 0 ? -1 : clock.unixTime(of: snapshot.exptime)
        text += " exp=\(expiry) la=\(clock.unixTime(of: snapshot.lastAccess)) cas=\(snapshot.cas)"
        text += " fetch=\(snapshot.fetched ? "yes" : "no") cls=\(entry.classID) size=\(snapshot.memcachedSize)\n"
    }

    /// memcached's `uriencode`: letters, digits and `-._~` stay; every other byte is `%XX`
    /// with upper-case hex digits.
    static func uriEncode(_ key: [UInt8], into text: inout String) {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(key.count * 3)
        for byte in key {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        text += String(decoding: bytes, as: UTF8.self)
    }
}
