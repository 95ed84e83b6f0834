#!/usr/bin/env bash
# A RabbitMQ cluster of N nodes on loopback, for trying Keel as it runs on several machines:
# start N|stop|status|ctl ARGS...|node-pid K|node-port K.
#
# Node k (1..N) is rabbitmq.sh with its own folder ($KEEL_STATE_DIR/rabbitmq-cluster-k), AMQP port
# KEEL_AMQP_PORT + k − 1 (default 5672, 5673, ...) and distribution port 20000 above that. The nodes share
# one Erlang cookie; nodes 2..N join node 1, and every quorum queue gets a member on each node, so a
# queue survives the loss of any one node of three. The cluster's own folders are not the single node's
# (rabbitmq.sh alone), so `scripts/stack up` without --brokers finds its node as it left it.
#
# `start` writes one .keel/env fragment naming every node (KEEL_AMQP_URL=amqp://…@127.0.0.1:5672,
# 127.0.0.1:5673,…/keel) and KEEL_RABBITMQCTL reaching node 1. `stop` stops the nodes last to first, so
# node 1, stopped last, is the one a later `start` boots first (a Mnesia cluster waits for the node that
# stopped last).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

BASE_PORT="${KEEL_AMQP_PORT:-5672}"
SCRIPT="$KEEL_ROOT/scripts/servers/rabbitmq.sh"
RMQ_BIN=/usr/lib/rabbitmq/bin
SIZE_FILE="$KEEL_STATE_DIR/rabbitmq-cluster.size"

node_port() { echo $((BASE_PORT + $1 - 1)); }
node_state() { echo "$KEEL_STATE_DIR/rabbitmq-cluster-$1"; }
node_name() { echo "keel-$(node_port "$1")@localhost"; }

# Runs rabbitmq.sh as node k.
as_node() {
    local k="$1"; shift
    KEEL_AMQP_STATE_NAME="rabbitmq-cluster-$k" KEEL_AMQP_ENV_FRAGMENT="" KEEL_AMQP_JOINING=$((k > 1)) \
        KEEL_AMQPS_PORT="" \
        KEEL_AMQP_PORT="$(node_port "$k")" KEEL_AMQP_DIST_PORT="$(($(node_port "$k") + 20000))" \
        KEEL_AMQP_NODENAME="$(node_name "$k")" "$SCRIPT" "$@"
}

# rabbitmqctl (or another RabbitMQ CLI tool) against node k, with that node's cookie.
tool_on() {
    local k="$1" tool="$2"; shift 2
    HOME="$(node_state "$k")" ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_NODENAME="$(node_name "$k")" \
        "$RMQ_BIN/$tool" -q -n "$(node_name "$k")" "$@"
}

cluster_size() { [ -s "$SIZE_FILE" ] && cat "$SIZE_FILE" || echo 0; }

start() {
    local size="${1:-3}" k
    [[ "$size" =~ ^[1-9]$ ]] || die "usage: $0 start N (1 to 9 nodes)"
    if (exec 3<>"/dev/tcp/127.0.0.1/$BASE_PORT") 2>/dev/null && [ "$(cluster_size)" = 0 ]; then
        die "127.0.0.1:$BASE_PORT is in use (a single RabbitMQ node? scripts/stack down first)"
    fi
    # One cookie for every node, made once.
    mkdir -p "$(node_state 1)"
    local cookie="$(node_state 1)/.erlang.cookie"
    if [ ! -s "$cookie" ]; then
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$cookie"
        chmod 400 "$cookie"
    fi
    for k in $(seq 2 "$size"); do
        mkdir -p "$(node_state "$k")"
        if ! cmp -s "$cookie" "$(node_state "$k")/.erlang.cookie"; then
            rm -f "$(node_state "$k")/.erlang.cookie"
            cp "$cookie" "$(node_state "$k")/.erlang.cookie"
            chmod 400 "$(node_state "$k")/.erlang.cookie"
        fi
    done
    for k in $(seq 1 "$size"); do as_node "$k" start; done
    for k in $(seq 2 "$size"); do join "$k"; done
    echo "$size" >"$SIZE_FILE"
    local hosts=()
    for k in $(seq 1 "$size"); do hosts+=("127.0.0.1:$(node_port "$k")"); done
    write_env_fragment rabbitmq \
        "KEEL_AMQP_URL=amqp://keel:keel@$(IFS=,; echo "${hosts[*]}")/keel" \
        "KEEL_AMQP_PORT=$BASE_PORT" \
        "KEEL_RABBITMQCTL=$KEEL_ROOT/scripts/servers/rabbitmq-cluster-ctl"
    say "rabbitmq cluster of $size nodes on 127.0.0.1:$BASE_PORT-$(node_port "$size")"
}

# Joins node k to node 1 unless it already is a member, then gives every quorum queue a member on it.
join() {
    local k="$1"
    if tool_on 1 rabbitmqctl cluster_status --formatter json | grep -q "\"$(node_name "$k")\""; then
        return 0
    fi
    say "joining $(node_name "$k") to $(node_name 1)"
    # The CLI echoes the node's boot log lines; they go to the node's log folder, not the terminal.
    local log; log="$(node_state "$k")/log/join.log"
    {
        tool_on "$k" rabbitmqctl stop_app
        tool_on "$k" rabbitmqctl reset
        tool_on "$k" rabbitmqctl join_cluster "$(node_name 1)"
        tool_on "$k" rabbitmqctl start_app
    } >>"$log" 2>&1 || die "$(node_name "$k") could not join the cluster; see $log"
    # Queues declared before this node joined have no member here yet.
    tool_on 1 rabbitmq-queues grow "$(node_name "$k")" all --vhost-pattern '.*' --queue-pattern '.*' \
        >>"$log" 2>&1 || true
}

stop() {
    local size k
    size="$(cluster_size)"
    [ "$size" -gt 0 ] || size=9
    for k in $(seq "$size" -1 1); do
        [ -d "$(node_state "$k")" ] && as_node "$k" stop
    done
    rm -f "$SIZE_FILE"
    remove_env_fragment rabbitmq
}

status() {
    local size k pid running=0
    size="$(cluster_size)"
    [ "$size" -gt 0 ] || { echo "rabbitmq cluster not running"; return 1; }
    for k in $(seq 1 "$size"); do
        if pid="$(node_pid "$k")"; then
            echo "rabbitmq node $k: running (pid $pid, node $(node_name "$k"), port $(node_port "$k"))"
            running=$((running + 1))
        else
            echo "rabbitmq node $k: stopped (node $(node_name "$k"), port $(node_port "$k"))"
        fi
    done
    [ "$running" -gt 0 ]
}

# The pid of node k, if it runs.
node_pid() {
    local file pid
    file="$(node_state "$1")/node.pid"
    [ -s "$file" ] || return 1
    pid="$(cat "$file")"
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

case "${1:-}" in
    start) start "${2:-3}" ;;
    stop) stop ;;
    status) status ;;
    # rabbitmqctl against the first node that answers (KEEL_RABBITMQCTL of a cluster).
    ctl)
        shift
        for k in $(seq 1 "$(cluster_size)"); do
            if node_pid "$k" >/dev/null; then exec env HOME="$(node_state "$k")" ERL_EPMD_ADDRESS=127.0.0.1 \
                "$RMQ_BIN/rabbitmqctl" -q -n "$(node_name "$k")" "$@"; fi
        done
        die "no node of the rabbitmq cluster is running"
        ;;
    queues)
        # rabbitmq-queues against node 1, e.g. `queues quorum_status keel.triggers --vhost keel`.
        shift
        tool_on 1 rabbitmq-queues "$@"
        ;;
    node-pid) node_pid "${2:?usage: $0 node-pid K}" ;;
    node-port) node_port "${2:?usage: $0 node-port K}" ;;
    node-name) node_name "${2:?usage: $0 node-name K}" ;;
    *) die "usage: $0 start N|stop|status|ctl ARGS...|queues ARGS...|node-pid K|node-port K|node-name K" ;;
esac
