/// A fixed-width, zero-padded decimal inside a ``RequestBuffer``: written in place, so a request
/// can carry a new key or the current lease token without building a new line (no allocation).
public struct DecimalField: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private let range: Range<Int>

    init(storage: UnsafeMutableRawBufferPointer, range: Range<Int>) {
        self.storage = storage
        self.range = range
    }

    /// Writes `value` zero-padded to the field's width; a value too wide for it traps.
    public func write(_ value: UInt64) {
        var rest = value
        for index in range.reversed() {
            storage[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        precondition(rest == 0, "value wider than its field")
    }
}
