import COpenSSL
import Synchronization

/// The server's one OpenSSL context (`SSL_CTX`), shared by every TLS connection, and the
/// certificate reload of `refresh_certs`.
///
/// OpenSSL lets connections be created from a context on many threads, but not while its
/// certificates are being replaced, so both go through one lock (memcached's `SSL_LOCK`). Both
/// are rare: a new connection, an operator's `refresh_certs`.
public final class TLSContext: @unchecked Sendable {
    private let context: OpaquePointer
    private let lock = Mutex(())
    /// The settings it was made from.
    public let options: TLSOptions
    /// Monotonic seconds (the server clock) of the last successful certificate load.
    private let lastLoad = Atomic<Int64>(0)

    /// Makes the context and loads the certificates; throws memcached's messages.
    public init(options: TLSOptions, now: Int64) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError("Error creating the TLS context") }
        self.context = context
        self.options = options
        dogpiled_ssl_ctx_set_server_options(context, options.kernelTLS ? 1 : 0)
        _ = dogpiled_ssl_ctx_set_min_proto_version(context, dogpiled_tls1_version(Int32(options.minimumVersion)))
        try loadCertificates(now: now)
        SSL_CTX_set_verify(context, Self.verifyFlags(options.verifyMode), nil)
        if let ciphers = options.ciphers, SSL_CTX_set_cipher_list(context, ciphers) != 1 {
            // deinit frees the context: every property is set, so a throw from here runs it.
            throw TLSError("Error setting the provided cipher(s): \(ciphers)")
        }
        if options.sessionCache {
            _ = dogpiled_ssl_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_SERVER))
            let id: StaticString = "dogpiled"
            SSL_CTX_set_session_id_context(context, id.utf8Start, UInt32(id.utf8CodeUnitCount))
        } else {
            _ = dogpiled_ssl_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        }
    }

    deinit { SSL_CTX_free(context) }

    /// OpenSSL's verify flags for memcached's `ssl_verify_mode` numbers.
    public static func verifyFlags(_ mode: Int) -> Int32 {
        switch mode {
        case 1: SSL_VERIFY_PEER
        case 2: SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
        case 3: SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE
        default: SSL_VERIFY_NONE
        }
    }

    /// Loads the chain, the key and the client CAs again (`refresh_certs`); on failure the
    /// message is memcached's, and connections go on with what was loaded before only as far as
    /// OpenSSL kept it (as in memcached).
    public func loadCertificates(now: Int64) throws(TLSError) {
        let failure: TLSError? = lock.withLock { _ in
            guard let chain = options.chainCertificate, SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
                return TLSError("Error loading the certificate chain: \(options.chainCertificate ?? "(null)")")
            }
            guard let key = options.privateKey ?? options.chainCertificate,
                  SSL_CTX_use_PrivateKey_file(context, key, options.keyFormat) == 1 else {
                return TLSError("Error loading the key: \(options.privateKey ?? "(null)")")
            }
            guard SSL_CTX_check_private_key(context) == 1 else { return TLSError("Error validating the certificate") }
            if let ca = options.caCertificate {
                guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else {
                    return TLSError("Error loading the CA certificate: \(ca)")
                }
                SSL_CTX_set_client_CA_list(context, SSL_load_client_CA_file(ca))
            }
            return nil
        }
        ERR_clear_error()
        if let failure { throw failure }
        lastLoad.store(now, ordering: .relaxed)
    }

    /// Server-clock seconds of the last successful load (`time_since_server_cert_refresh`).
    public var lastLoadTime: Int64 { lastLoad.load(ordering: .relaxed) }

    /// A server-side session on `descriptor` (nil if OpenSSL could not make one).
    public func makeStream(descriptor: Int32) -> TLSStream? {
        let ssl: OpaquePointer? = lock.withLock { _ in SSL_new(context) }
        guard let ssl else { return nil }
        guard SSL_set_fd(ssl, descriptor) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        // Output is written from libevent's buffer, whose head may move between retries.
        _ = dogpiled_ssl_set_mode(ssl, Int(dogpiled_ssl_mode_partial_moving()))
        return TLSStream(ssl: ssl)
    }
}
