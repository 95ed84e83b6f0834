#ifndef KEEL_CLIBSSH2_SHIM_H
#define KEEL_CLIBSSH2_SHIM_H
#include <libssh2.h>

/* libssh2 exposes these as function-like macros, which Swift cannot import. */
static inline LIBSSH2_SESSION *keel_ssh2_session_init(void) { return libssh2_session_init(); }
static inline LIBSSH2_CHANNEL *keel_ssh2_channel_open_session(LIBSSH2_SESSION *s) {
    return libssh2_channel_open_session(s);
}
static inline int keel_ssh2_channel_exec(LIBSSH2_CHANNEL *c, const char *command) {
    return libssh2_channel_exec(c, command);
}
static inline ssize_t keel_ssh2_channel_read(LIBSSH2_CHANNEL *c, char *buf, size_t len) {
    return libssh2_channel_read(c, buf, len);
}
static inline ssize_t keel_ssh2_channel_read_stderr(LIBSSH2_CHANNEL *c, char *buf, size_t len) {
    return libssh2_channel_read_stderr(c, buf, len);
}
static inline ssize_t keel_ssh2_channel_write(LIBSSH2_CHANNEL *c, const char *buf, size_t len) {
    return libssh2_channel_write(c, buf, len);
}
static inline int keel_ssh2_channel_send_eof(LIBSSH2_CHANNEL *c) { return libssh2_channel_send_eof(c); }
static inline int keel_ssh2_userauth_publickey_fromfile(LIBSSH2_SESSION *s, const char *user,
                                                        const char *pub, const char *priv,
                                                        const char *passphrase) {
    return libssh2_userauth_publickey_fromfile(s, user, pub, priv, passphrase);
}
static inline int keel_ssh2_session_disconnect(LIBSSH2_SESSION *s, const char *description) {
    return libssh2_session_disconnect(s, description);
}
#endif
