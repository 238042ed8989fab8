/// The TLS rows of the settings table: memcached's `-Z` and its `-o ssl_*` names, with
/// memcached's defaults and ranges, and dogpiled's bound on a handshake.
extension Settings {
    static let tls: [Setting] = [
        Setting("ssl_enabled", flags: [], .boolean, .restart, "TLS on every TCP listener but the notls: ones (-Z)",
                read: { .boolean($0.tlsEnabled) },
                write: { if case .boolean(let on) = $1 { $0.tlsEnabled = on } }),
        tlsPath("ssl_chain_cert", "certificate chain file in PEM format", \.sslChainCertificate),
        tlsPath("ssl_key", "private key, if not part of ssl_chain_cert", \.sslPrivateKey),
        tlsInteger("ssl_keyformat", 1...2, "private key format: 1 PEM, 2 DER (OpenSSL's file types)", \.sslKeyFormat),
        tlsInteger("ssl_verify_mode", 0...3, "client certificates: 0 none, 1 request, 2 require, 3 require once", \.sslVerifyMode),
        tlsPath("ssl_ciphers", "OpenSSL cipher list for TLS 1.2 and below", \.sslCiphers),
        tlsPath("ssl_ca_cert", "PEM file of the client CAs accepted", \.sslCACertificate),
        tlsInteger("ssl_wbuf_size", 1...1024, "kilobytes of output per TLS record written", \.sslWriteBufferKilobytes),
        tlsBoolean("ssl_session_cache", "server-side TLS session cache (resumption)", \.sslSessionCache),
        tlsBoolean("ssl_kernel_tls", "ask OpenSSL for kernel TLS offload", \.sslKernelTLS),
        tlsInteger("ssl_min_version", 0...3, "minimum protocol: 0 TLS 1.0, 1 TLS 1.1, 2 TLS 1.2, 3 TLS 1.3", \.sslMinimumVersion),
        Setting("tls_handshake_timeout", flags: ["--tls-handshake-timeout"], .integer(1...3600, unit: "seconds"), .restart,
                "a TLS client that has not completed its handshake by then is disconnected",
                read: { .integer($0.tlsHandshakeTimeoutSeconds) },
                write: { if case .integer(let value) = $1 { $0.tlsHandshakeTimeoutSeconds = value } }),
    ]

    private static func tlsPath(
        _ key: String, _ summary: String, _ field: WritableKeyPath<ServerConfiguration, String?> & Sendable
    ) -> Setting {
        Setting(key, option: key, .path(emptyMeansNone: false), .restart, summary,
                read: { .string($0[keyPath: field]) },
                write: { if case .string(let value) = $1 { $0[keyPath: field] = value } })
    }

    private static func tlsInteger(
        _ key: String, _ range: ClosedRange<Int>, _ summary: String, _ field: WritableKeyPath<ServerConfiguration, Int> & Sendable
    ) -> Setting {
        Setting(key, option: key, .integer(range, unit: nil), .restart, summary,
                read: { .integer($0[keyPath: field]) },
                write: { if case .integer(let value) = $1 { $0[keyPath: field] = value } })
    }

    private static func tlsBoolean(
        _ key: String, _ summary: String, _ field: WritableKeyPath<ServerConfiguration, Bool> & Sendable
    ) -> Setting {
        Setting(key, option: key, .boolean, .restart, summary,
                read: { .boolean($0[keyPath: field]) },
                write: { if case .boolean(let value) = $1 { $0[keyPath: field] = value } })
    }
}
