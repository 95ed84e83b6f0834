#!/usr/bin/env bash
# Makes the local TLS material once, under "$KEEL_STATE_DIR/tls": a certificate authority (ca.pem), a
# server certificate for `localhost` signed by it (server.pem, server.key; used by the loopback PostgreSQL
# and RabbitMQ), a client certificate (client.pem, client.key; CN keel) and, for tests that must see a
# certificate refused, a second authority that signed nothing of ours (other-ca.pem, other-ca.key: also a
# client certificate the servers must refuse).
#
# The server certificate names only the host name localhost (librabbitmq verifies DNS names, not IP
# addresses), so connecting to 127.0.0.1 fails hostname verification: that is what tests of verify-full
# check. Run as `tls.sh ensure`; prints the
# folder.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

DIR="$KEEL_STATE_DIR/tls"

ensure() {
    [ -s "$DIR/server.pem" ] && [ -s "$DIR/client.pem" ] && [ -s "$DIR/other-ca.key" ] && { echo "$DIR"; return; }
    ensure_packages openssl
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    local work; work="$(mktemp -d)"
    (
        cd "$work"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Keel local CA" \
            -keyout ca.key -out ca.pem 2>/dev/null
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Someone else's CA" \
            -keyout other-ca.key -out other-ca.pem 2>/dev/null
        printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile server.ext -out server.pem 2>/dev/null
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        openssl req -newkey rsa:2048 -nodes -subj "/CN=keel" -keyout client.key -out client.csr 2>/dev/null
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile client.ext -out client.pem 2>/dev/null
    )
    # Certificates are public; the keys stay private (each server copies its key where it can read it).
    install -m 644 "$work/ca.pem" "$work/other-ca.pem" "$work/server.pem" "$work/client.pem" "$DIR/"
    install -m 600 "$work/ca.key" "$work/other-ca.key" "$work/server.key" "$work/client.key" "$DIR/"
    rm -rf "$work"
    echo "$DIR"
}

case "${1:-}" in
    ensure) ensure ;;
    *) die "usage: $0 ensure" ;;
esac
