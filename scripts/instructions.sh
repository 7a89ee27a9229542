#!/usr/bin/env bash
# Instructions per operation of the micro-benchmarks, counted by valgrind.
#
#   scripts/instructions.sh
#
# `swift package benchmark` reports instructions from the CPU's counters, which virtual
# machines often do not expose. This counts them with valgrind instead (installed from
# Debian's packages if missing): each benchmark runs twice with a fixed number of
# samples of 1,000 operations, and the difference between the two totals, divided by
# the extra operations, is what one operation costs (start-up and set-up cancel out).
# Counts are exact and repeatable, unlike times on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "instructions: installing valgrind from Debian's packages" >&2
    SUDO=""; [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind >/dev/null
fi

echo "instructions: building the release benchmarks" >&2
swift build -c release --product GatehouseBenchmarks >/dev/null
BIN="$(swift build -c release --show-bin-path)/GatehouseBenchmarks"

# total NAME SAMPLES: instructions executed by the whole process.
total() {
    GATEHOUSE_BENCH_ITERATIONS="$2" valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "$BIN" --filter "^$1\$" 2>&1 >/dev/null | awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}

FEW=2
MANY=12
printf '%-28s %14s\n' benchmark "instructions/op"
for name in "access-token sign" "access-token verify" "refresh-token verify" "users/me claims encoding"; do
    few="$(total "$name" "$FEW")"
    many="$(total "$name" "$MANY")"
    printf '%-28s %14s\n' "$name" "$(awk "BEGIN { printf \"%.0f\", ($many - $few) / (($MANY - $FEW) * 1000) }")"
done
