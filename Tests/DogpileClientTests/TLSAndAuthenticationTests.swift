import Foundation
import NIOSSL
import Testing
@testable import DogpileClient

/// The client against daemons started with `-Z` (TLS) and `-Y` (ASCII authentication): the
/// classic commands and the Region's lock-verb loop work through both, and each way of getting
/// them wrong is an error with its own code, never a hang or a silently plain connection.
@Suite(.serialized) struct TLSAndAuthenticationTests {
    /// A CA, a server certificate for the name localhost (not its address) signed by it, and an unrelated CA,
    /// made with Debian's `openssl` command in a fresh directory.
    struct Certificates {
        let directory: URL
        var ca: String { directory.appendingPathComponent("ca.pem").path }
        var otherCA: String { directory.appendingPathComponent("other-ca.pem").path }
        var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
        var serverKey: String { directory.appendingPathComponent("server.key").path }

        static func make() throws -> Certificates {
            let directory = URL(fileURLWithPath: NSTemporaryDirectory())
                .appendingPathComponent("dogpiled-client-tls-\(getpid())-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            func openssl(_ arguments: String...) throws {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
                process.arguments = arguments
                process.currentDirectoryURL = directory
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else { throw HarnessError("openssl \(arguments.first ?? "") failed") }
            }
            for name in ["ca", "other-ca"] {
                try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).pem",
                            "-days", "2", "-subj", "/CN=dogpiled client test \(name)")
            }
            try "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"
                .write(to: directory.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
            try openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                        "-subj", "/CN=localhost")
            try openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                        "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
            return Certificates(directory: directory)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }

        var daemonArguments: [String] {
            Fleet.regionArguments + ["-o", "ssl_chain_cert=\(serverCertificate),ssl_key=\(serverKey)"]
        }

        func clientTLS(trusting ca: String) throws -> TLSConfiguration {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            return tls
        }
    }

    static func client(port: Int, _ configure: (inout DogpileClient.Configuration) -> Void) throws -> DogpileClient {
        var configuration = DogpileClient.Configuration(servers: [ServerAddress(host: "127.0.0.1", port: port)])
        configuration.connectTimeout = .seconds(3)
        configure(&configuration)
        return try DogpileClient(configuration: configuration)
    }

    @Test func commandsAndRegionsOverTLS() async throws {
        let certificates = try Certificates.make()
        defer { certificates.remove() }
        let daemon = try await DaemonProcess.startTLS(certificates.daemonArguments)
        defer { daemon.stop() }
        // Verified by the name the certificate carries (the address it is reached at is not in it).
        for hostname in ["localhost"] as [String?] {
            let client = try Self.client(port: daemon.port) {
                $0.tls = try? certificates.clientTLS(trusting: certificates.ca)
                $0.tlsServerHostname = hostname
            }
            defer { client.shutdown() }
            try await client.set("over-tls", Array("secret".utf8))
            #expect(try await client.get("over-tls")?.string == "secret")
            let region = try client.region("user", expiration: .seconds(60))
            let calls = CallCounter()
            let value: String = try await region.getOrCreate("tls-\(hostname ?? "ip")") { _ = calls.increment(); return "made" }
            let again: String = try await region.getOrCreate("tls-\(hostname ?? "ip")") { _ = calls.increment(); return "twice" }
            #expect(value == "made" && again == "made")
            #expect(calls.value == 1)
        }
        // A client without TLS on the TLS port gets an error, not a hang or plaintext answers.
        let plain = try Self.client(port: daemon.port) { $0.requestTimeout = .seconds(2) }
        defer { plain.shutdown() }
        do {
            try await plain.set("over-tls", [1])
            Issue.record("a plain client was answered on the TLS port")
        } catch let error as DogpileClientError {
            #expect(error.code == .connectionFailed || error.code == .timeout, "\(error)")
        }
    }

    @Test func untrustedCertificateIsATLSError() async throws {
        let certificates = try Certificates.make()
        defer { certificates.remove() }
        let daemon = try await DaemonProcess.startTLS(certificates.daemonArguments)
        defer { daemon.stop() }
        let client = try Self.client(port: daemon.port) { $0.tls = try? certificates.clientTLS(trusting: certificates.otherCA) }
        defer { client.shutdown() }
        await expectError(.tlsFailed) { try await client.set("anything", [1]) }
        // A name the certificate does not carry is refused as well, and so is the bare address.
        let bareAddress = try Self.client(port: daemon.port) { $0.tls = try? certificates.clientTLS(trusting: certificates.ca) }
        defer { bareAddress.shutdown() }
        await expectError(.tlsFailed) { try await bareAddress.set("anything", [1]) }
        let wrongName = try Self.client(port: daemon.port) {
            $0.tls = try? certificates.clientTLS(trusting: certificates.ca)
            $0.tlsServerHostname = "not-the-server.example"
        }
        defer { wrongName.shutdown() }
        await expectError(.tlsFailed) { try await wrongName.set("anything", [1]) }
    }

    @Test func missingCertificateFileIsATLSErrorAtStart() throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = [.file("/nonexistent/dogpiled-client.pem")]
        tls.privateKey = .file("/nonexistent/dogpiled-client.key")
        var configuration = DogpileClient.Configuration(servers: [ServerAddress(host: "127.0.0.1", port: 1)])
        configuration.tls = tls
        #expect { try DogpileClient(configuration: configuration) } throws: {
            ($0 as? DogpileClientError)?.code == .tlsFailed
        }
    }

    @Test func credentialsAreSentOnEveryConnection() async throws {
        let authFile = NSTemporaryDirectory() + "dogpiled-client-auth-\(getpid())-\(UUID().uuidString)"
        try "app:s3cret\nother:pw\n".write(toFile: authFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: authFile) }
        let daemon = try await DaemonProcess.startAuthenticated(authFile: authFile, username: "app", password: "s3cret",
                                                                Fleet.regionArguments)
        defer { daemon.stop() }

        let client = try Self.client(port: daemon.port) { $0.credentials = Credentials(username: "app", password: "s3cret") }
        defer { client.shutdown() }
        // Several connections at once: each authenticates before its first request.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try await client.set("auth-\(index)", Array("v\(index)".utf8))
                    #expect(try await client.get("auth-\(index)")?.string == "v\(index)")
                }
            }
            try await group.waitForAll()
        }
        let region = try client.region("user", expiration: .seconds(60))
        let value: Int = try await region.getOrCreate("answer") { 42 }
        #expect(value == 42)

        let anonymous = try Self.client(port: daemon.port) { _ in }
        defer { anonymous.shutdown() }
        let unauthenticated = await expectError(.authenticationFailed) { try await anonymous.get("auth-0") }
        #expect(unauthenticated?.message.contains("unauthenticated") == true)

        let wrong = try Self.client(port: daemon.port) { $0.credentials = Credentials(username: "app", password: "wrong") }
        defer { wrong.shutdown() }
        await expectError(.authenticationFailed) { try await wrong.get("auth-0") }
        // A refused password does not mark the daemon dead: the next try says the same.
        await expectError(.authenticationFailed) { try await wrong.set("auth-0", Array("x".utf8)) }
        #expect(try await client.get("auth-0")?.string == "v0")
    }

    @Test func credentialsWithSpacesAreRefusedBeforeConnecting() {
        var configuration = DogpileClient.Configuration(servers: [ServerAddress(host: "127.0.0.1", port: 1)])
        configuration.credentials = Credentials(username: "a b", password: "c")
        #expect { try DogpileClient(configuration: configuration) } throws: {
            ($0 as? DogpileClientError)?.code == .invalidArgument
        }
    }
}
