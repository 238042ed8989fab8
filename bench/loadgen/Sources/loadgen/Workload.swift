import NIOCore

/// What each connection sends: the request mix and how keys and values look. Shared, read-only.
struct Workload: Sendable {
    enum Kind: String, Sendable { case kv, lock }

    var kind: Kind
    /// Out of `setWeight + getWeight` requests, this many are sets (kv) or... (lock: unused).
    var setWeight: Int
    var getWeight: Int
    var keys: KeyChooser
    var value: [UInt8]
    var leaseMilliseconds: Int
    var waitMilliseconds: Int
    /// exptime of values stored by setgen (lock workload): short, so they go stale and stampede.
    var lockExptime: Int

    /// Appends one request for `key` to `buffer`: a get or set (kv), or a lockgen (lock).
    func writeRequest(key: Int, random: inout FastRandom, into buffer: inout ByteBuffer) -> RequestKind {
        switch kind {
        case .lock:
            buffer.writeStaticString("lockgen ")
            Self.writeKey(key, into: &buffer)
            buffer.writeStaticString(" ")
            Self.writeDecimal(leaseMilliseconds, into: &buffer)
            buffer.writeStaticString(" ")
            Self.writeDecimal(waitMilliseconds, into: &buffer)
            buffer.writeStaticString("\r\n")
            return .lockgen
        case .kv:
            if Int(random.next() % UInt64(setWeight + getWeight)) < setWeight {
                writeSet(key: key, exptime: 0, token: nil, into: &buffer)
                return .set
            }
            buffer.writeStaticString("get ")
            Self.writeKey(key, into: &buffer)
            buffer.writeStaticString("\r\n")
            return .get
        }
    }

    /// `set` (or `setgen` with `token`) of the workload's value.
    func writeSet(key: Int, exptime: Int, token: UInt64?, into buffer: inout ByteBuffer) {
        if let token {
            buffer.writeStaticString("setgen ")
            Self.writeKey(key, into: &buffer)
            buffer.writeStaticString(" ")
            Self.writeDecimal(Int(token), into: &buffer)
        } else {
            buffer.writeStaticString("set ")
            Self.writeKey(key, into: &buffer)
        }
        buffer.writeStaticString(" 0 ")
        Self.writeDecimal(exptime, into: &buffer)
        buffer.writeStaticString(" ")
        Self.writeDecimal(value.count, into: &buffer)
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(value)
        buffer.writeStaticString("\r\n")
    }

    /// Keys are `key:<n>`.
    static func writeKey(_ key: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("key:")
        writeDecimal(key, into: &buffer)
    }

    static func writeDecimal(_ number: Int, into buffer: inout ByteBuffer) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = UInt64(number)
        withUnsafeMutableBytes(of: &digits) { bytes in
            repeat {
                bytes[23 - count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[(24 - count)...]))
        }
    }
}

/// What a sent request was, to count its reply.
enum RequestKind { case get, set, lockgen, setgen }
