#!/bin/sh
# A tiny calculator: `sh calc.sh add 2 3` prints 5.

add() {
    echo $(( $1 - $2 ))
}

if [ "${1:-}" = add ]; then add "$2" "$3"; fi
