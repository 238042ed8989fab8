#ifndef DOGPILED_COPENSSL_SHIM_H
#define DOGPILED_COPENSSL_SHIM_H
// OpenSSL as Debian packages it (libssl-dev). Several of its calls are macros over
// SSL_CTX_ctrl/SSL_ctrl, which Swift cannot import; the inline functions below wrap them.
#include <sys/types.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <openssl/err.h>

static inline int dogpiled_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long dogpiled_ssl_set_mode(SSL *ssl, long mode) {
    return SSL_set_mode(ssl, mode);
}
static inline long dogpiled_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline const int dogpiled_ssl_mode_partial_moving(void) {
    return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
}
// memcached's options (no SSLv2/v3), no renegotiation (memcached refuses it from a callback),
// and kernel TLS when asked (ssl_kernel_tls).
static inline void dogpiled_ssl_ctx_set_server_options(SSL_CTX *ctx, int kernel_tls) {
    uint64_t options = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_RENEGOTIATION;
#ifdef SSL_OP_ENABLE_KTLS
    if (kernel_tls) options |= SSL_OP_ENABLE_KTLS;
#endif
    SSL_CTX_set_options(ctx, options);
}
static inline int dogpiled_tls1_version(int minor) {
    switch (minor) {
    case 0: return TLS1_VERSION;
    case 1: return TLS1_1_VERSION;
    case 2: return TLS1_2_VERSION;
    default: return TLS1_3_VERSION;
    }
}

// OpenSSL 3 reports a peer that closed without close_notify as an SSL error with this reason:
// for a server of a request/reply protocol it is a hang-up, not a failure.
static inline int dogpiled_ssl_error_is_unexpected_eof(void) {
    return ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}
#endif
