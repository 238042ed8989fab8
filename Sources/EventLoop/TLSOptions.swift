/// memcached's TLS settings (`-Z` with `-o ssl_*`), as the server hands them to ``TLSContext``.
public struct TLSOptions: Sendable, Equatable {
    /// `ssl_chain_cert`: the server's certificate chain (PEM).
    public var chainCertificate: String?
    /// `ssl_key`: the private key, if not part of the chain file.
    public var privateKey: String?
    /// `ssl_keyformat`: OpenSSL's file type of the key, 1 PEM (memcached's default), 2 DER.
    public var keyFormat: Int32 = 1
    /// `ssl_verify_mode`: 0 none, 1 request a client certificate, 2 require one, 3 require one
    /// once (memcached's numbering).
    public var verifyMode: Int = 0
    /// `ssl_ciphers`: an OpenSSL cipher list (TLS 1.2 and below); nil: OpenSSL's default.
    public var ciphers: String?
    /// `ssl_ca_cert`: client CAs (PEM) to verify client certificates against.
    public var caCertificate: String?
    /// `ssl_session_cache`: server-side session cache for resumption.
    public var sessionCache: Bool = false
    /// `ssl_kernel_tls`: ask OpenSSL for kernel TLS offload where the kernel offers it.
    public var kernelTLS: Bool = false
    /// `ssl_min_version`: 0 TLS 1.0, 1 TLS 1.1, 2 TLS 1.2 (default), 3 TLS 1.3.
    public var minimumVersion: Int = 2

    /// memcached's defaults.
    public init() {}
}
