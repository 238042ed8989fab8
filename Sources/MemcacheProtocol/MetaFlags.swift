/// The flags of one meta command line, as memcached 1.6.18's `_meta_flag_preparse` reads them:
/// which single-letter flags are present, and the numbers some of them carry. Flags that only
/// shape the reply (`k`, `O`, `s`, `t`, ...) are recorded as present; the executor walks the
/// flag tokens again (``MetaRequest/flagTokens``) to answer them in request order, so nothing
/// here is a String or an array.
public struct MetaFlags: Sendable, Equatable {
    /// One bit per letter present: `A`–`Z` are bits 0–25, `a`–`z` bits 32–57.
    public private(set) var present: UInt64 = 0
    /// `T`: the new TTL (a protocol exptime).
    public var ttl: Int32 = 0
    /// `N`: the TTL of an item vivified on a miss.
    public var vivifyTTL: Int32 = 0
    /// `R`: win the recache token when the remaining TTL is below this (a protocol exptime).
    public var recacheTTL: Int32 = 0
    /// `F`: client flags of a stored item.
    public var clientFlags: UInt32 = 0
    /// `C`: the CAS value to compare.
    public var compareCAS: UInt64 = 0
    /// `M`: the mode letter (0 when absent).
    public var mode: UInt8 = 0
    /// `J`: the initial value of an item `ma` vivifies.
    public var initial: UInt64 = 0
    /// `D`: the delta of `ma` (1 when absent).
    public var delta: UInt64 = 1

    /// No flags.
    public init() {}

    /// The bit of an ASCII letter, or 0 for anything else.
    @inlinable
    static func bit(_ letter: UInt8) -> UInt64 {
        switch letter {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): 1 << UInt64(letter - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): 1 << UInt64(32 + letter - UInt8(ascii: "a"))
        default: 0
        }
    }

    /// Whether the flag `letter` was given.
    @inlinable
    public func has(_ letter: Unicode.Scalar) -> Bool {
        present & Self.bit(UInt8(ascii: letter)) != 0
    }

    /// Records `letter` as present.
    mutating func insert(_ letter: UInt8) {
        present |= Self.bit(letter)
    }

    /// `q`: suppress the nominal reply.
    @inlinable public var quiet: Bool { has("q") }
    /// `b`: the key is base64.
    @inlinable public var base64Key: Bool { has("b") }
}
