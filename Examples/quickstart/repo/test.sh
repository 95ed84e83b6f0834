#!/bin/sh
# The project's tests: `sh test.sh` exits 0 when every check passes.
. ./calc.sh

failures=0
check() {
    if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: expected $3, got $2"; failures=$((failures + 1)); fi
}

check "add 2 3" "$(add 2 3)" 5
check "add 10 -4" "$(add 10 -4)" 6
[ "$failures" -eq 0 ]
