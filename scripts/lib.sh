# shellcheck shell=bash
# Shared by the scripts in scripts/ and scripts/servers/: paths, logging, env fragments.
# Source it; do not run it.

KEEL_ROOT="${KEEL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
KEEL_STATE_DIR="${KEEL_STATE_DIR:-$KEEL_ROOT/.keel}"
export KEEL_ROOT KEEL_STATE_DIR

if [ -t 2 ]; then
    say() { printf '\033[1m[keel]\033[0m %s\n' "$*" >&2; }
    die() { printf '\033[31m[keel] error:\033[0m %s\n' "$*" >&2; exit 1; }
else
    say() { printf '[keel] %s\n' "$*" >&2; }
    die() { printf '[keel] error: %s\n' "$*" >&2; exit 1; }
fi

# Installs the Debian packages that are missing (needs root or sudo); quiet when all are present.
# Packages such as openssh-server, postgresql and rabbitmq-server start their system-wide daemon (on the
# default ports, all addresses) from their postinst; a temporary policy-rc.d forbids that, as Keel runs only
# its own servers.
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    local sudo="" policy=/usr/sbin/policy-rc.d created="" status=0
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && created=1
    fi
    {
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
            $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                "${missing[@]}" >/dev/null
    } || status=$?
    [ -z "$created" ] || $sudo rm -f "$policy"
    return "$status"
}

# Installs every package the project needs (the list in scripts/debian-packages, one per line).
ensure_project_packages() {
    local packages
    mapfile -t packages < <(grep -v '^[[:space:]]*\(#\|$\)' "$KEEL_ROOT/scripts/debian-packages")
    ensure_packages "${packages[@]}"
}

# Each server script writes its connection settings as KEY=value lines to .keel/env.d/<name>;
# .keel/env is rebuilt from all fragments, so clients, tests and the CLI read one file.
write_env_fragment() {
    local name="$1"; shift
    mkdir -p "$KEEL_STATE_DIR/env.d"
    (umask 077; printf '%s\n' "$@" >"$KEEL_STATE_DIR/env.d/$name")
    rebuild_env_file
}

remove_env_fragment() {
    rm -f "$KEEL_STATE_DIR/env.d/$1"
    rebuild_env_file
}

# .keel/env holds local secrets (the callback key): readable by its owner only.
rebuild_env_file() {
    mkdir -p "$KEEL_STATE_DIR/env.d"
    chmod 700 "$KEEL_STATE_DIR/env.d"
    (umask 077; {
        echo "# Written by Keel's local stack scripts; one KEY=value per line."
        cat "$KEEL_STATE_DIR"/env.d/* 2>/dev/null || true
    } >"$KEEL_STATE_DIR/env.tmp")
    chmod 600 "$KEEL_STATE_DIR/env.tmp"
    mv "$KEEL_STATE_DIR/env.tmp" "$KEEL_STATE_DIR/env"
}

# Waits up to $2 seconds (default 60) for the command in $1 to succeed.
wait_for() {
    local check="$1" limit="${2:-60}" i=0
    until eval "$check" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -ge $((limit * 4)) ] && return 1
        sleep 0.25
    done
}

# Closes every descriptor of the current shell above stderr. A daemon started from a script would otherwise
# inherit whatever the caller left open, such as the socket Foundation's Process uses to notice that the
# script exited (swift-corelibs-foundation#4795) or a CI log pipe, and the caller would never see EOF.
close_inherited_fds() {
    local fd_path fd
    for fd_path in /proc/self/fd/*; do
        fd="${fd_path##*/}"
        if [ "$fd" -gt 2 ]; then eval "exec ${fd}>&-" 2>/dev/null || true; fi
    done
}

# Runs a command with only stdin, stdout and stderr open (see close_inherited_fds).
without_inherited_fds() {
    (
        close_inherited_fds
        "$@"
    )
}

# The user name in an AMQP URL (amqp://USER:PASSWORD@HOST:PORT/VHOST); guest when it names none.
amqp_user() {
    local rest="${1#*://}"
    case "$rest" in
        *@*) rest="${rest%%@*}"; echo "${rest%%:*}" ;;
        *) echo guest ;;
    esac
}
