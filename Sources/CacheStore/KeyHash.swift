/// A fast, well-mixed 64-bit hash of key bytes: eight bytes per step, multiply-fold mixing and a
/// final avalanche, so that both the shard (high bits) and the bucket (low bits) are uniform.
public enum KeyHash {
    @inline(__always)
    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// Hashes `key`.

    public static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        let seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var state: UInt64 = seed ^ UInt64(key.count)
        var index = 0
        let count = key.count
        guard let base = key.baseAddress else { return avalanche(state) }
        while index + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            state = fold(state ^ word, 0xBF58_476D_1CE4_E5B9)
            index += 8
        }
        if index < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while index < count {
                tail |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) << shift
                shift += 8
                index += 1
            }
            state = fold(state ^ tail, 0x94D0_49BB_1331_11EB)
        }
        return avalanche(state)
    }


    static func avalanche(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 31
        x &*= 0x7FB5_D329_728E_A185
        x ^= x >> 27
        x &*= 0x81DA_DEF4_BC2D_D44D
        x ^= x >> 33
        return x
    }
}
