#!/usr/bin/env bash
# A private PostgreSQL for development and tests: scripts/servers/postgres.sh start|stop|restart|status
#
# Data, socket and log live under "$KEEL_STATE_DIR/postgres/"; the server listens on 127.0.0.1 only, on
# ${KEEL_PG_PORT:-5432}. It provides role `keel` (password `keel`) owning database `keel`, with SCRAM password
# authentication over TCP. Nothing here touches the Debian package's own clusters or services.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

PORT="${KEEL_PG_PORT:-5432}"
STATE="$KEEL_STATE_DIR/postgres"
DATA="$STATE/data"
SOCKETS="$STATE/run"
LOG="$STATE/postgres.log"

ensure_packages postgresql postgresql-contrib libpq-dev

# The newest installed server version's binaries (e.g. /usr/lib/postgresql/15/bin).
PG_VERSION="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
[ -n "$PG_VERSION" ] || die "no PostgreSQL server found in /usr/lib/postgresql"
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"

# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user.
if [ "$(id -u)" -eq 0 ]; then
    RUN_USER="postgres"
    getent passwd "$RUN_USER" >/dev/null || die "user $RUN_USER does not exist (it comes with the postgresql package)"
else
    RUN_USER="$(id -un)"
fi

# Runs a command as the server's user, from a directory that user can read.
as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$STATE" 2>/dev/null || cd /; runuser -u "$RUN_USER" -- "$@")
    else
        (cd "$STATE" 2>/dev/null || cd /; "$@")
    fi
}

# Makes every ancestor of the state folder traversable by the server's user.
make_path_traversable() {
    local dir="$STATE"
    while [ "$dir" != "/" ]; do
        dir="$(dirname "$dir")"
        if ! runuser -u "$RUN_USER" -- test -x "$dir"; then
            say "granting search permission on $dir so $RUN_USER can reach $STATE"
            chmod o+x "$dir"
        fi
    done
}

prepare_state() {
    mkdir -p "$STATE" "$SOCKETS"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$RUN_USER": "$STATE" "$SOCKETS"
        make_path_traversable
    fi
    chmod 700 "$SOCKETS"
}

is_running() {
    [ -f "$DATA/PG_VERSION" ] && as_server_user "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

accepts_connections() {
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres
}

init_cluster() {
    [ -f "$DATA/PG_VERSION" ] && return 0
    say "initialising a PostgreSQL $PG_VERSION cluster in $DATA"
    as_server_user "$PG_BIN/initdb" -D "$DATA" -U postgres -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    # Settings that follow the environment (port, paths) are rewritten on every start in keel.conf.
    echo "include_if_exists = 'keel.conf'" | as_server_user tee -a "$DATA/postgresql.conf" >/dev/null
}

# The server's TLS certificate and key (scripts/servers/tls.sh), copied where the server's user owns
# them: PostgreSQL refuses a key file others can read.
install_tls() {
    local tls; tls="$("$KEEL_ROOT/scripts/servers/tls.sh" ensure)"
    install -m 644 "$tls/server.pem" "$STATE/server.pem"
    install -m 600 "$tls/server.key" "$STATE/server.key"
    if [ "$(id -u)" -eq 0 ]; then chown "$RUN_USER": "$STATE/server.pem" "$STATE/server.key"; fi
}

write_settings() {
    install_tls
    as_server_user tee "$DATA/keel.conf" >/dev/null <<EOF
# Written by scripts/servers/postgres.sh on every start.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKETS'
max_connections = 400
shared_buffers = 64MB
password_encryption = 'scram-sha-256'
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
# Statement counts and times for keel-bench (statements per step, where the server's time goes).
shared_preload_libraries = 'pg_stat_statements'
# TLS for clients that ask (sslmode=verify-full&sslrootcert=.keel/tls/ca.pem); plain TCP stays allowed.
ssl = on
ssl_cert_file = '$STATE/server.pem'
ssl_key_file = '$STATE/server.key'
EOF
}

# Creates role keel and database keel if they are missing (over the private unix socket, as superuser).
create_role_and_database() {
    as_server_user "$PG_BIN/psql" -X -q -h "$SOCKETS" -p "$PORT" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keel') THEN
        CREATE ROLE keel LOGIN CREATEDB CREATEROLE PASSWORD 'keel';
    END IF;
    -- keel migrate creates the services' least-privilege roles (docs/operations.md).
    ALTER ROLE keel CREATEROLE;
END
$$;
SELECT 'CREATE DATABASE keel OWNER keel' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'keel')
\gexec
EOF
    # keel-bench reads pg_stat_statements in the keel database (a superuser must create the extension).
    as_server_user "$PG_BIN/psql" -X -q -h "$SOCKETS" -p "$PORT" -U postgres -d keel -v ON_ERROR_STOP=1 \
        -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
}

start() {
    prepare_state
    if is_running; then
        wait_for accepts_connections 60 || die "PostgreSQL is running but does not accept connections on port $PORT"
        say "PostgreSQL already running on 127.0.0.1:$PORT"
    else
        init_cluster
        write_settings
        say "starting PostgreSQL on 127.0.0.1:$PORT"
        without_inherited_fds as_server_user "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null ||
            die "PostgreSQL did not start; see $LOG"
        wait_for accepts_connections 60 || die "PostgreSQL does not accept connections on port $PORT; see $LOG"
    fi
    create_role_and_database
    write_env_fragment postgres \
        "KEEL_DATABASE_URL=postgres://keel:keel@127.0.0.1:$PORT/keel" \
        "KEEL_PG_PORT=$PORT" \
        "KEEL_TLS_DIR=$KEEL_STATE_DIR/tls"
}

stop() {
    if is_running; then
        say "stopping PostgreSQL"
        as_server_user "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    fi
    remove_env_fragment postgres
}

status() {
    if is_running && accepts_connections; then
        say "PostgreSQL running on 127.0.0.1:$PORT (data in $DATA)"
    else
        say "PostgreSQL not running"
        return 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) stop && start ;;
    status) status ;;
    *) die "usage: $0 start|stop|restart|status" ;;
esac
