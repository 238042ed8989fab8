import DogpiledSettings
import Testing

/// memcached's `-o ssl_*` names and `-l notls:` entries as dogpiled reads them.
@Suite("TLS settings")
struct TLSSettingsTests {
    @Test("the ssl_* -o names set their fields; bare switches turn on")
    func options() throws {
        var configuration = ServerConfiguration()
        try ExtendedOptions.apply([
            "ssl_chain_cert=/c.pem,ssl_key=/k.pem,ssl_verify_mode=2,ssl_ca_cert=/ca.pem",
            "ssl_min_version=3,ssl_wbuf_size=32,ssl_keyformat=2,ssl_ciphers=HIGH,ssl_session_cache,ssl_kernel_tls",
        ], to: &configuration)
        #expect(configuration.sslChainCertificate == "/c.pem")
        #expect(configuration.sslPrivateKey == "/k.pem")
        #expect(configuration.sslVerifyMode == 2)
        #expect(configuration.sslCACertificate == "/ca.pem")
        #expect(configuration.sslMinimumVersion == 3)
        #expect(configuration.sslWriteBufferKilobytes == 32)
        #expect(configuration.sslKeyFormat == 2)
        #expect(configuration.sslCiphers == "HIGH")
        #expect(configuration.sslSessionCache && configuration.sslKernelTLS)
    }

    @Test("out-of-range ssl values are refused, naming the option", arguments: [
        "ssl_verify_mode=4", "ssl_min_version=-1", "ssl_min_version=4", "ssl_wbuf_size=0", "ssl_keyformat=3",
        "ssl_chain_cert=", "ssl_verify_mode",
    ])
    func refused(option: String) {
        var configuration = ServerConfiguration()
        #expect(throws: SettingError.self) { try ExtendedOptions.apply([option], to: &configuration) }
    }

    @Test("-l entries: notls:, host:port and [v6]:port", arguments: [
        ("127.0.0.1", "127.0.0.1", nil, false), ("notls:127.0.0.1:11212", "127.0.0.1", 11212, true),
        ("localhost:0", "localhost", 0, false), ("[::1]:11213", "::1", 11213, false),
        ("notls:[::1]", "::1", nil, true), ("::1", "::1", nil, false),
    ] as [(String, String, Int?, Bool)])
    func listen(text: String, host: String, port: Int?, noTLS: Bool) throws {
        let address = try #require(ListenAddress(text))
        #expect(address.host == host && address.port == port && address.noTLS == noTLS)
    }

    @Test("-l entries with a bad port are refused", arguments: ["127.0.0.1:x", "127.0.0.1:70000", "[::1]:", "[::1]x"])
    func badListen(text: String) {
        #expect(ListenAddress(text) == nil)
    }
}
