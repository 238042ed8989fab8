/// The decimal digits of a 64-bit number, kept on the stack.
struct DecimalDigits {
    private var storage: InlineArray<20, UInt8> = InlineArray(repeating: 0)
    private var start = 20

    init(_ value: UInt64) {
        var remaining = value
        repeat {
            start -= 1
            storage[start] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        } while remaining > 0
    }

    var count: Int { 20 - start }

    /// Writes the digits at the front of `target` and fills the rest with spaces.
    mutating func copy(into target: UnsafeMutableRawBufferPointer) {
        var index = 0
        for position in start..<20 {
            target[index] = storage[position]
            index += 1
        }
        while index < target.count {
            target[index] = 0x20
            index += 1
        }
    }
}
