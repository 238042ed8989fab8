import EventLoop

/// The TLS lines of `stats` and `stats settings`, named and formatted as memcached 1.6.18 prints
/// them (general ones only with `-Z`; settings ones always).
extension StatsReport {
    func tlsGeneral() -> [(String, String)] {
        guard let context = state.tlsContext else { return [] }
        return [
            ("ssl_handshake_errors", String(state.total(.sslHandshakeErrors))),
            ("ssl_handshake_timeouts", String(state.total(.sslHandshakeTimeouts))),
            ("time_since_server_cert_refresh", String(Int64(state.clock.now) - context.lastLoadTime)),
        ]
    }

    func tlsSettings() -> [(String, String)] {
        let configuration = state.configuration
        return [
            ("ssl_enabled", configuration.tlsEnabled ? "yes" : "no"),
            ("ssl_chain_cert", configuration.sslChainCertificate ?? "(null)"),
            ("ssl_key", configuration.sslPrivateKey ?? "(null)"),
            ("ssl_verify_mode", String(TLSContext.verifyFlags(configuration.sslVerifyMode))),
            ("ssl_keyformat", String(configuration.sslKeyFormat)),
            ("ssl_ciphers", configuration.sslCiphers ?? "NULL"),
            ("ssl_ca_cert", configuration.sslCACertificate ?? "NULL"),
            ("ssl_wbuf_size", String(configuration.sslWriteBufferKilobytes * 1024)),
            ("ssl_session_cache", configuration.sslSessionCache ? "yes" : "no"),
            ("ssl_kernel_tls", configuration.sslKernelTLS ? "yes" : "no"),
            ("ssl_min_version", ["tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3"][configuration.sslMinimumVersion]),
            ("tls_handshake_timeout", String(configuration.tlsHandshakeTimeoutSeconds)),
        ]
    }
}
