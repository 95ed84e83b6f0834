#ifndef KEEL_CRABBITMQ_SHIM_H
#define KEEL_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

/* Swift cannot call C variadic functions: amqp_login with the PLAIN mechanism. */
static inline amqp_rpc_reply_t keel_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                     int channel_max, int frame_max, int heartbeat,
                                                     const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user,
                      password);
}

/* The same with client properties (connection_name, product), also variadic in librabbitmq. */
static inline amqp_rpc_reply_t keel_amqp_login_plain_with_properties(
    amqp_connection_state_t state, const char *vhost, int channel_max, int frame_max, int heartbeat,
    const amqp_table_t *properties, const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}
#endif
