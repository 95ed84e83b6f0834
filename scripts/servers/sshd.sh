#!/usr/bin/env bash
# A test sshd for SSHClient's integration tests: 127.0.0.1:${KEEL_SSH_PORT:-2222}, public-key login only.
#
#   scripts/servers/sshd.sh start|stop|restart|status
#
# Everything lives under "$KEEL_STATE_DIR/sshd": its own sshd_config, host keys (ed25519 and ecdsa), pid
# file and log, the client key pairs, authorized_keys and a known_hosts file naming the host keys for
# [127.0.0.1]:PORT. Neither the Debian package's /etc/ssh configuration nor its service is used.
#
# Who may log in:
#   - run as root (CI, dev containers): a dedicated user `keel-ssh` (override with KEEL_SSH_USER) is created
#     with a home folder and bash; only that user may log in.
#   - run as another user: sshd runs as that user (no privilege separation) and only that user may log in.
#
# Client keys: ed25519, because libssh2 1.10 signs RSA user authentication with SHA-1 only ("ssh-rsa"),
# which OpenSSH 8.8 and later refuse. `client_ed25519` has no passphrase; `client_ed25519_encrypted` is
# protected by the passphrase in KEEL_SSH_ENCRYPTED_KEY_PASSPHRASE (a test fixture, not a secret).
#
# Settings written to .keel/env: KEEL_SSH_HOST, KEEL_SSH_PORT, KEEL_SSH_USER, KEEL_SSH_KEY,
# KEEL_SSH_KNOWN_HOSTS, KEEL_SSH_ENCRYPTED_KEY, KEEL_SSH_ENCRYPTED_KEY_PASSPHRASE.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

NAME=sshd
DIR="$KEEL_STATE_DIR/sshd"
HOST=127.0.0.1
PORT="${KEEL_SSH_PORT:-2222}"
CONFIG="$DIR/sshd_config"
PIDFILE="$DIR/sshd.pid"
LOGFILE="$DIR/sshd.log"
KEY="$DIR/client_ed25519"
ENCRYPTED_KEY="$DIR/client_ed25519_encrypted"
ENCRYPTED_KEY_PASSPHRASE="keel-test-passphrase"
KNOWN_HOSTS="$DIR/known_hosts"
AUTHORIZED_KEYS="$DIR/authorized_keys"

if [ "$(id -u)" -eq 0 ]; then
    LOGIN_USER="${KEEL_SSH_USER:-keel-ssh}"
else
    LOGIN_USER="$(id -un)"
fi

# The pid of the sshd this script started, if it is still running.
running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # A reused pid belongs to someone else: ours was started with our config file.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONFIG" || return 1
    echo "$pid"
}

ensure_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    if ! getent passwd "$LOGIN_USER" >/dev/null; then
        say "creating test user $LOGIN_USER"
        useradd --create-home --shell /bin/bash "$LOGIN_USER"
    fi
    # With UsePAM off, sshd refuses accounts whose password field is locked ("!"); "*" allows no password
    # login either but leaves public-key login open.
    if [ "$(getent shadow "$LOGIN_USER" | cut -d: -f2)" != "*" ]; then
        usermod --password '*' "$LOGIN_USER"
    fi
    local home
    home="$(getent passwd "$LOGIN_USER" | cut -d: -f6)"
    [ -d "$home" ] || { mkdir -p "$home" && chown "$LOGIN_USER:" "$home"; }
}

# Keys, authorized_keys, known_hosts and sshd_config; existing keys are kept so restarts preserve them.
prepare() {
    mkdir -p "$DIR"
    # sshd reads authorized_keys as the login user: the folder must be searchable by it.
    chmod 755 "$DIR"
    [ -f "$DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C keel-test-host -f "$DIR/ssh_host_ed25519_key"
    [ -f "$DIR/ssh_host_ecdsa_key" ] || ssh-keygen -q -t ecdsa -b 256 -N '' -C keel-test-host -f "$DIR/ssh_host_ecdsa_key"
    [ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C keel-test-client -f "$KEY"
    [ -f "$ENCRYPTED_KEY" ] || ssh-keygen -q -t ed25519 -N "$ENCRYPTED_KEY_PASSPHRASE" -C keel-test-client-encrypted -f "$ENCRYPTED_KEY"

    cat "$KEY.pub" "$ENCRYPTED_KEY.pub" >"$AUTHORIZED_KEYS"
    chmod 644 "$AUTHORIZED_KEYS"

    local name="[$HOST]:$PORT"
    [ "$PORT" = 22 ] && name="$HOST"
    : >"$KNOWN_HOSTS.tmp"
    for pub in "$DIR/ssh_host_ed25519_key.pub" "$DIR/ssh_host_ecdsa_key.pub"; do
        printf '%s %s\n' "$name" "$(cut -d' ' -f1,2 "$pub")" >>"$KNOWN_HOSTS.tmp"
    done
    mv "$KNOWN_HOSTS.tmp" "$KNOWN_HOSTS"

    cat >"$CONFIG" <<CONF
# Written by scripts/servers/sshd.sh; regenerated on every start.
Port $PORT
ListenAddress $HOST
HostKey $DIR/ssh_host_ed25519_key
HostKey $DIR/ssh_host_ecdsa_key
PidFile $PIDFILE
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthenticationMethods publickey
AuthorizedKeysFile $AUTHORIZED_KEYS
AllowUsers $LOGIN_USER
PermitRootLogin no
# The state folder may live anywhere (a CI clone, /tmp); its ancestors' modes are not ours to vouch for.
StrictModes no
UseDNS no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
PrintLastLog no
# Test suites open many sessions at once.
MaxStartups 200
MaxSessions 100
LogLevel VERBOSE
Subsystem sftp internal-sftp
CONF
    if [ "$(id -u)" -eq 0 ]; then
        mkdir -p /run/sshd
        chmod 755 /run/sshd
    fi
    /usr/sbin/sshd -t -f "$CONFIG"
}

# A real login with the OpenSSH client, verifying the host key: the server is ready when this works.
can_log_in() {
    ssh -q -F /dev/null -p "$PORT" -i "$KEY" \
        -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
        -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5 \
        "$LOGIN_USER@$HOST" true </dev/null
}

start() {
    ensure_packages openssh-server openssh-client libssh2-1-dev
    if running_pid >/dev/null; then
        say "sshd already running on $HOST:$PORT (pid $(running_pid))"
    else
        ensure_user
        prepare
        if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
            die "port $HOST:$PORT is in use by another process; set KEEL_SSH_PORT"
        fi
        rm -f "$PIDFILE"
        without_inherited_fds /usr/sbin/sshd -f "$CONFIG" -E "$LOGFILE"
        wait_for running_pid 30 || die "sshd did not start; see $LOGFILE"
    fi
    wait_for can_log_in 60 || die "sshd on $HOST:$PORT does not accept $LOGIN_USER's key; see $LOGFILE"
    write_env_fragment "$NAME" \
        "KEEL_SSH_HOST=$HOST" \
        "KEEL_SSH_PORT=$PORT" \
        "KEEL_SSH_USER=$LOGIN_USER" \
        "KEEL_SSH_KEY=$KEY" \
        "KEEL_SSH_KNOWN_HOSTS=$KNOWN_HOSTS" \
        "KEEL_SSH_ENCRYPTED_KEY=$ENCRYPTED_KEY" \
        "KEEL_SSH_ENCRYPTED_KEY_PASSPHRASE=$ENCRYPTED_KEY_PASSPHRASE"
    say "sshd ready on $HOST:$PORT for user $LOGIN_USER"
}

stop() {
    local pid
    if pid="$(running_pid)"; then
        kill "$pid"
        wait_for "! kill -0 $pid" 30 || { kill -9 "$pid" 2>/dev/null || true; }
        say "sshd stopped (pid $pid)"
    fi
    rm -f "$PIDFILE"
    remove_env_fragment "$NAME"
}

status() {
    local pid
    if pid="$(running_pid)"; then
        echo "sshd running on $HOST:$PORT (pid $pid), login user $LOGIN_USER"
    else
        echo "sshd not running"
        return 3
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) stop && start ;;
status) status ;;
*) die "usage: $0 start|stop|restart|status" ;;
esac
