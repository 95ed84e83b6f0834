#!/usr/bin/env bash
# Runs Keel's own RabbitMQ node for development and tests: start|stop|restart|status.
#
# The node is not the Debian service: its data, logs, config, Erlang cookie and pid file live under
# "$KEEL_STATE_DIR/rabbitmq", it listens on 127.0.0.1 only (AMQP port KEEL_AMQP_PORT, default 5672;
# distribution port KEEL_AMQP_DIST_PORT, default AMQP port + 20000), and `stop` only stops the node
# this script started. Durable queues and messages survive `restart`.
#
# rabbitmq-cluster.sh runs several nodes through this script: KEEL_AMQP_STATE_NAME names a node's folder
# under $KEEL_STATE_DIR (default rabbitmq) and KEEL_AMQP_ENV_FRAGMENT the .keel/env.d fragment it writes
# (default rabbitmq; empty: none, the cluster script writes one for all nodes).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

NAME="${KEEL_AMQP_STATE_NAME:-rabbitmq}"
FRAGMENT="${KEEL_AMQP_ENV_FRAGMENT-rabbitmq}"
PORT="${KEEL_AMQP_PORT:-5672}"
DIST_PORT="${KEEL_AMQP_DIST_PORT:-$((PORT + 20000))}"
# AMQP over TLS (amqps://) on the port below AMQP's (5671 beside 5672), with the certificates of
# scripts/servers/tls.sh; empty: no TLS listener.
TLS_PORT="${KEEL_AMQPS_PORT-$((PORT - 1))}"
STATE="$KEEL_STATE_DIR/$NAME"
RMQ_BIN=/usr/lib/rabbitmq/bin

# Everything the node and its CLI tools need to find each other and our state, and nothing shared.
export HOME="$STATE"
export RABBITMQ_NODENAME="${KEEL_AMQP_NODENAME:-keel-$PORT@localhost}"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$PORT"
export RABBITMQ_DIST_PORT="$DIST_PORT"
export RABBITMQ_MNESIA_BASE="$STATE/mnesia"
export RABBITMQ_LOG_BASE="$STATE/log"
export RABBITMQ_CONFIG_FILE="$STATE/rabbitmq.conf"
export RABBITMQ_ADVANCED_CONFIG_FILE="$STATE/advanced.config"
export RABBITMQ_CONF_ENV_FILE="$STATE/rabbitmq-env.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE/enabled_plugins"
export RABBITMQ_PID_FILE="$STATE/node.pid"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export ERL_EPMD_ADDRESS=127.0.0.1

ctl() { "$RMQ_BIN/rabbitmqctl" -q "$@"; }

node_pid() {
    [ -s "$RABBITMQ_PID_FILE" ] || return 1
    local pid
    pid="$(cat "$RABBITMQ_PID_FILE")"
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

amqp_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

write_config() {
    mkdir -p "$STATE/mnesia" "$STATE/log"
    chmod 700 "$STATE"
    # The Erlang cookie must exist, be private, and stay the same across restarts.
    if [ ! -s "$STATE/.erlang.cookie" ]; then
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/.erlang.cookie"
    fi
    chmod 400 "$STATE/.erlang.cookie"
    # No plugins: the management UI is not needed and every plugin slows the start.
    echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
    : >"$RABBITMQ_CONF_ENV_FILE"
    echo '[].' >"$RABBITMQ_ADVANCED_CONFIG_FILE"
    cat >"$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.1 = 127.0.0.1:$PORT
loopback_users = none
log.file.level = info
log.console = false
disk_free_limit.absolute = 50MB
CONF
    if [ -n "$TLS_PORT" ]; then
        local tls; tls="$("$KEEL_ROOT/scripts/servers/tls.sh" ensure)"
        install -m 644 "$tls/server.pem" "$STATE/server.pem"
        install -m 600 "$tls/server.key" "$STATE/server.key"
        # Client certificates are verified when offered (signed by the local CA), not required.
        cat >>"$RABBITMQ_CONFIG_FILE" <<CONF
listeners.ssl.1 = 127.0.0.1:$TLS_PORT
ssl_options.cacertfile = $tls/ca.pem
ssl_options.certfile = $STATE/server.pem
ssl_options.keyfile = $STATE/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
CONF
    fi
}

start() {
    if node_pid >/dev/null && amqp_port_open; then
        say "rabbitmq already running on 127.0.0.1:$PORT"
    else
        ensure_packages rabbitmq-server librabbitmq-dev
        if amqp_port_open; then
            die "127.0.0.1:$PORT is in use by another process; set KEEL_AMQP_PORT"
        fi
        write_config
        say "starting rabbitmq node $RABBITMQ_NODENAME on 127.0.0.1:$PORT"
        rm -f "$RABBITMQ_PID_FILE"
        # Detached into its own session with every standard stream redirected, so nothing (e.g. a test
        # reading this script's output) waits on the node.
        (cd "$STATE" && close_inherited_fds && exec setsid "$RMQ_BIN/rabbitmq-server" \
            </dev/null >"$STATE/log/startup.log" 2>&1) &
        wait_for "[ -s '$RABBITMQ_PID_FILE' ]" 60 || die "rabbitmq wrote no pid file; see $STATE/log"
        # The AMQP listener opens at the very end of the boot, so an accepting port means a ready node;
        # polling it is faster than starting the Erlang CLI. Fail fast if the node dies meanwhile.
        wait_for "amqp_port_open || ! node_pid" 120 || die "rabbitmq did not open 127.0.0.1:$PORT in 120 s"
        node_pid >/dev/null || die "rabbitmq exited during boot; see $STATE/log/startup.log and $STATE/log"
    fi
    # A node about to join a cluster gets the cluster's users and vhosts when it joins.
    [ "${KEEL_AMQP_JOINING:-0}" = 1 ] || ensure_vhost_and_user
    [ -n "$FRAGMENT" ] || return 0
    write_env_fragment "$FRAGMENT" \
        "KEEL_AMQP_URL=amqp://keel:keel@127.0.0.1:$PORT/keel" \
        "KEEL_AMQP_PORT=$PORT" \
        "KEEL_AMQPS_PORT=$TLS_PORT" \
        "KEEL_RABBITMQCTL=$KEEL_ROOT/scripts/servers/rabbitmqctl"
}

# The keel vhost and user with full permissions on it; a no-op when they exist. A marker per node
# (the node name carries the port, and each node has its own database) records that they were
# created, sparing three CLI round trips on every later start.
ensure_vhost_and_user() {
    local marker="$RABBITMQ_MNESIA_BASE/.keel-vhost-and-user-$RABBITMQ_NODENAME"
    [ -f "$marker" ] && return 0
    ctl list_vhosts | grep -qx keel || ctl add_vhost keel >/dev/null
    if ! ctl list_users | awk '{print $1}' | grep -qx keel; then
        ctl add_user keel keel >/dev/null
    fi
    ctl set_permissions -p keel keel '.*' '.*' '.*' >/dev/null
    touch "$marker"
}

stop() {
    local pid
    if pid="$(node_pid)"; then
        say "stopping rabbitmq node $RABBITMQ_NODENAME (pid $pid)"
        # SIGTERM is RabbitMQ's graceful shutdown (durable data is flushed), and quicker than the CLI.
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_for "! kill -0 $pid" 60; then
            say "rabbitmq did not stop within 60 s; killing it"
            kill -9 "$pid" 2>/dev/null || true
            # SIGKILL is not instant: until the process is gone it still holds the port, and a start
            # right after (restart) would find it "in use by another process".
            wait_for "! kill -0 $pid" 30 || say "rabbitmq (pid $pid) still there 30 s after SIGKILL"
        fi
    fi
    rm -f "$RABBITMQ_PID_FILE"
    [ -z "$FRAGMENT" ] || remove_env_fragment "$FRAGMENT"
}

status() {
    if node_pid >/dev/null && amqp_port_open; then
        echo "rabbitmq running: node $RABBITMQ_NODENAME, amqp://127.0.0.1:$PORT/keel"
    else
        echo "rabbitmq not running"
        return 1
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) stop && start ;;
status) status ;;
# Tests isolate themselves in a virtual host of their own (same user, full permissions on it).
add-vhost)
    [ -n "${2:-}" ] || die "usage: $0 add-vhost NAME"
    ctl add_vhost "$2" >/dev/null
    ctl set_permissions -p "$2" keel '.*' '.*' '.*' >/dev/null
    ;;
delete-vhost)
    [ -n "${2:-}" ] || die "usage: $0 delete-vhost NAME"
    ctl delete_vhost "$2" >/dev/null
    ;;
ctl)
    # rabbitmqctl against this node, for `keel publisher` (KEEL_RABBITMQCTL in .keel/env).
    shift
    exec "$RMQ_BIN/rabbitmqctl" -q "$@"
    ;;
*) die "usage: $0 start|stop|restart|status|add-vhost NAME|delete-vhost NAME|ctl ARGS..." ;;
esac
