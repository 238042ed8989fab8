import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How every connection of a client is opened: event loops, timeouts, TLS and credentials.
///
/// Made once per client from its ``DogpileClient/Configuration`` (the TLS context, whose
/// certificates are read from disk, is built here and shared by every connection).
struct ConnectionSettings: Sendable {
    /// The event loops the connections run on.
    var group: any EventLoopGroup
    /// How long connecting (TCP, then the TLS handshake and authentication) may take.
    var connectTimeout: TimeAmount
    /// The TLS context, when the daemons speak TLS (`-Z`).
    var tls: NIOSSLContext?
    /// The name the server certificate must carry, when it is not the address's host.
    var tlsServerHostname: String?
    /// The data of the authentication `set`, when the daemons want credentials (`-Y`).
    var credentials: [UInt8]?

    /// Settings for `configuration`; throws ``DogpileClientError/Code/tlsFailed`` or
    /// ``DogpileClientError/Code/invalidArgument`` for a configuration that cannot work.
    init(_ configuration: DogpileClient.Configuration) throws {
        group = configuration.eventLoopGroup
        connectTimeout = configuration.connectTimeout.timeAmount
        tlsServerHostname = configuration.tlsServerHostname
        credentials = try configuration.credentials?.line()
        if let tlsConfiguration = configuration.tls {
            // NIOSSL stops the process (a precondition) on a chain file it cannot load, so
            // files are checked first and a bad one is an error like any other.
            for case .file(let path) in tlsConfiguration.certificateChain where access(path, R_OK) != 0 {
                throw DogpileClientError(.tlsFailed, "cannot read the certificate chain file \(path)")
            }
            do {
                tls = try NIOSSLContext(configuration: tlsConfiguration)
            } catch {
                throw DogpileClientError(.tlsFailed, "cannot make a TLS context: \(error)")
            }
        }
    }

    /// The SNI and verification name for `host`: nil for an IP address literal (TLS forbids
    /// those in SNI, and NIOSSL then checks the certificate's IP addresses instead).
    func serverHostname(for host: String) -> String? {
        if let tlsServerHostname { return tlsServerHostname }
        let isAddress = host.contains(":") || host.allSatisfy { $0 == "." || $0.isNumber }
        return isAddress ? nil : host
    }
}
