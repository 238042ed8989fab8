import CLibevent
import Synchronization

/// A connection's pending output: a libevent `evbuffer`, written with `writev` and able to hold
/// references to bytes owned elsewhere (a large cached value) instead of copies.
///
/// An append libevent refuses (out of memory) sets ``failed`` for good: what is queued may then
/// be missing part of a reply, so the connection must close rather than send it.
public final class OutputBuffer {
    /// The underlying `evbuffer *`.
    public let raw: OpaquePointer
    /// Some append failed: the queued bytes are not a whole sequence of replies any more.
    public private(set) var failed = false

    /// Creates an empty buffer.
    public init() {
        raw = evbuffer_new()!
    }

    deinit { evbuffer_free(raw) }

    /// Bytes waiting to be written.
    public var count: Int { evbuffer_get_length(raw) }

    /// Appends a copy of `bytes`.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if evbuffer_add(raw, base, bytes.count) != 0 { failed = true }
    }

    /// Appends a literal.
    public func append(_ text: StaticString) {
        if evbuffer_add(raw, text.utf8Start, text.utf8CodeUnitCount) != 0 { failed = true }
    }

    /// Appends the UTF-8 bytes of `string` (for rare replies such as `stats`).
    public func append(string: String) {
        var copy = string
        copy.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Lets `body` write up to `maximum` bytes directly into the buffer; it returns how many it
    /// wrote.
    public func write(maximum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        var vector = iovec()
        guard evbuffer_reserve_space(raw, maximum, &vector, 1) >= 1 else {
            failed = true
            return
        }
        let written = body(UnsafeMutableRawBufferPointer(start: vector.iov_base, count: maximum))
        vector.iov_len = written
        if evbuffer_commit_space(raw, &vector, 1) != 0 { failed = true }
    }

    /// Appends `bytes` without copying; `owner` is retained until libevent is done with them.
    public func appendReference(_ bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let retained = Unmanaged.passRetained(owner)
        Self.referenced.add(bytes.count, ordering: .relaxed)
        if evbuffer_add_reference(raw, base, bytes.count, releaseOwner, retained.toOpaque()) != 0 {
            // libevent did not take it, so it will never call back: give the retain back here.
            Self.referenced.subtract(bytes.count, ordering: .relaxed)
            retained.release()
            failed = true
        }
    }

    /// Appends `bytes` without copying; libevent calls `cleanup` with `context` once it is done
    /// with them, and `cleanup` must call ``referenceReleased(_:)`` with their count. For owners
    /// that are not Swift objects (an item's segment), so a reference costs no allocation.
    public func appendReference(
        _ bytes: UnsafeRawBufferPointer, context: UnsafeMutableRawPointer,
        cleanup: @escaping @convention(c) (UnsafeRawPointer?, Int, UnsafeMutableRawPointer?) -> Void
    ) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        Self.referenced.add(bytes.count, ordering: .relaxed)
        if evbuffer_add_reference(raw, base, bytes.count, cleanup, context) != 0 {
            Self.referenced.subtract(bytes.count, ordering: .relaxed)
            failed = true
            return false
        }
        return true
    }

    /// Called by an ``appendReference(_:context:cleanup:)`` cleanup with the bytes it released.
    public static func referenceReleased(_ count: Int) {
        referenced.subtract(count, ordering: .relaxed)
    }

    /// Makes every later append fail, as an out-of-memory libevent would (`evbuffer_freeze` of the
    /// end): for tests of the failure path.
    func refuseAppends() {
        evbuffer_freeze(raw, 0)
    }

    /// Bytes that queued output of every connection holds by reference (values sent without a
    /// copy). The items they belong to stay alive until written, even if evicted or replaced
    /// meanwhile, so this bounds what output can hold outside the store's `-m`.
    public static var referencedBytes: Int { referenced.load(ordering: .relaxed) }

    fileprivate static let referenced = Atomic<Int>(0)

    /// Hands `body` the first `maximum` bytes (or fewer) as one contiguous block and removes as
    /// many as it reports taken; returns that count (negative: `body` failed, nothing removed).
    /// For TLS, whose records are written from one block (memcached copies into `ssl_wbuf`).
    public func drain(upTo maximum: Int, _ body: (UnsafeRawBufferPointer) -> Int) -> Int {
        let length = min(count, maximum)
        guard length > 0, let head = evbuffer_pullup(raw, length) else { return 0 }
        let taken = body(UnsafeRawBufferPointer(start: head, count: length))
        if taken > 0 { evbuffer_drain(raw, taken) }
        return taken
    }

    /// Writes as much as the socket takes. Returns the bytes written, or -1 with `errno` set.
    public func write(to descriptor: Int32) -> Int {
        Int(evbuffer_write(raw, descriptor))
    }
}

private func releaseOwner(_ data: UnsafeRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    OutputBuffer.referenced.subtract(length, ordering: .relaxed)
    Unmanaged<AnyObject>.fromOpaque(context!).release()
}
