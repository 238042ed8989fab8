import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// One connection's TLS session over its non-blocking socket: `SSL_read` into the connection's
/// ``InputBuffer`` and `SSL_write` from its ``OutputBuffer``, so everything above the transport
/// (parser, replies, parked requests and their wake-ups) is the same as on plain TCP.
///
/// The handshake runs inside the first reads. OpenSSL may need the other direction to go on
/// (a read that must write a handshake record into a full socket, a write that waits for a
/// record): ``readWantsWritable`` and ``writeWantsReadable`` tell the driver which extra event
/// to watch, and which operation to retry when it fires.
public final class TLSStream {
    private let ssl: OpaquePointer
    /// The last read stopped until the socket is writable.
    public private(set) var readWantsWritable = false
    /// The last write stopped until the socket is readable.
    public private(set) var writeWantsReadable = false
    /// The handshake failed (counted once, as memcached's `ssl_handshake_errors`).
    public private(set) var handshakeFailed = false

    init(ssl: OpaquePointer) {
        self.ssl = ssl
    }

    deinit { SSL_free(ssl) }

    /// Decrypted bytes (or a whole record) wait inside OpenSSL: the socket will not signal them,
    /// so the driver reads again without waiting for an event.
    public var hasPendingInput: Bool { SSL_has_pending(ssl) == 1 }

    /// Whether the handshake has completed.
    public var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    /// The negotiated protocol, e.g. "TLSv1.3".
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Reads decrypted bytes into `input` (running the handshake first if it is not done).
    public func read(into input: InputBuffer) -> InputBuffer.ReadOutcome {
        readWantsWritable = false
        return input.read { space, capacity in
            let count = SSL_read(ssl, space, Int32(min(capacity, Int(Int32.max))))
            if count > 0 { return .read(Int(count)) }
            return self.failure(of: count, writing: false)
        }
    }

    /// Writes what `output` holds, a record of at most `recordBytes` at a time (memcached's
    /// `ssl_wbuf_size`), until the socket takes no more. Returns the plaintext bytes written, or
    /// -1 if the connection failed; 0 with nothing written means it would block.
    public func write(from output: OutputBuffer, recordBytes: Int) -> Int {
        writeWantsReadable = false
        var total = 0
        while output.count > 0 {
            let written = output.drain(upTo: recordBytes) { head in
                let count = SSL_write(ssl, head.baseAddress, Int32(head.count))
                if count > 0 { return Int(count) }
                switch failure(of: count, writing: true) {
                case .wouldBlock: return 0
                default: return -1
                }
            }
            if written < 0 { return -1 }
            if written == 0 { break }
            total += written
        }
        return total
    }

    /// Sends the close_notify alert (best effort, never blocks), before the socket closes.
    public func shutdown() {
        if isEstablished && !handshakeFailed { _ = SSL_shutdown(ssl) }
        ERR_clear_error()
    }

    /// Classifies a failed `SSL_read`/`SSL_write`.
    private func failure(of result: Int32, writing: Bool) -> InputBuffer.ReadOutcome {
        let code = SSL_get_error(ssl, result)
        let savedErrno = errno
        let unexpectedEOF = code == SSL_ERROR_SSL && dogpiled_ssl_error_is_unexpected_eof() == 1
        ERR_clear_error()
        if unexpectedEOF { return .endOfStream }
        switch code {
        case SSL_ERROR_WANT_READ:
            if writing { writeWantsReadable = true }
            return .wouldBlock
        case SSL_ERROR_WANT_WRITE:
            if !writing { readWantsWritable = true }
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .endOfStream
        case SSL_ERROR_SYSCALL where result == 0 || savedErrno == 0:
            // The peer closed without close_notify: an end of stream, as a TCP close is (a
            // client that hangs up mid-handshake is not a handshake error).
            return .endOfStream
        default:
            if !isEstablished { handshakeFailed = true }
            return .failed(savedErrno == 0 ? EPROTO : savedErrno)
        }
    }
}
