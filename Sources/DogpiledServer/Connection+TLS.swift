import Coordination
import EventLoop

/// `-Z`: what a connection does about TLS beyond reading and writing through it.
extension Connection {
    /// `refresh_certs`: loads the certificate chain, key and client CAs again, for connections
    /// made from now on. memcached's replies: `OK` (which `noreply` silences), or its error line
    /// (which it does not).
    func refreshCertificates(noreply: Bool) {
        guard let context = state.tlsContext else {
            output.append("Error TLS not enabled\r\n")
            return
        }
        do {
            try context.loadCertificates(now: Int64(state.clock.now))
            reply("OK\r\n", unless: noreply)
        } catch {
            output.append(string: error.description)
            output.append("\r\n")
        }
    }

    /// Whether a TLS client has had `timeoutMilliseconds` since the accept and still not
    /// completed its handshake (it holds a connection slot and buffers while sending nothing
    /// useful; memcached has no such bound).
    func handshakeOverdue(now: Int64, timeoutMilliseconds: Int64) -> Bool {
        guard let tls, !tls.isEstablished else { return false }
        return now - acceptedMilliseconds >= timeoutMilliseconds
    }
}
