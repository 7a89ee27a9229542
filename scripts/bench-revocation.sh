#!/usr/bin/env bash
# Instant revocation (issue 14): what the in-memory revocation list costs, and how fast a
# change made on one instance is refused on another.
#
#   scripts/bench-revocation.sh                             # SQLite
#   scripts/test-postgres.sh scripts/bench-revocation.sh    # PostgreSQL (LISTEN/NOTIFY)
#
# Memory (SQLite): a release server started on a fresh file holding 0, 100,000 and
# BENCH_REVOCATIONS_MAX (1,000,000) revocations made in the last minute (each another
# user's session) loads them before it answers; its anonymous memory once up, minus the
# empty one's, divided by the count, is the cost of an entry. The time to /health is the
# load's cost.
# Propagation: two instances on one database; BENCH_PROPAGATION_TRIALS (200) logouts on
# A, each timed from A's 204 to B's first 401 (scripts/bench/propagation.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/prepare.sh revocation
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
anon_kb() { awk '/^RssAnon/ {print $2}' "/proc/$1/status"; }
MAX="${BENCH_REVOCATIONS_MAX:-1000000}"
TRIALS="${BENCH_PROPAGATION_TRIALS:-200}"
PIDS=()
stop_all() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done; PIDS=(); }
trap 'stop_all; cleanup' EXIT

# start PORT: a server in the background; leaves its pid in STARTED_PID and its time to
# /health in STARTED_S.
start() {
    local begun
    begun="$(date +%s.%N)"
    PORT="$1" "$BIN" serve >>"$WORK/server-$1.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    until curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1; do sleep 0.01; done
    STARTED_S="$(calc "$(date +%s.%N) - $begun")"
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

if [[ -z "${GATEHOUSE_TEST_DATABASE_URL:-}" ]]; then
    BASE_ANON=0
    for count in 0 100000 "$MAX"; do
        export DATABASE_URL="sqlite://$WORK/memory-$count.sqlite"
        "$BIN" migrate >/dev/null
        scripts/bench/seed-revocations.sh "$WORK/memory-$count.sqlite" "$count"
        start "$PORT"
        sleep 1
        anon="$(anon_kb "$STARTED_PID")"
        stop_all
        if [[ "$count" == 0 ]]; then
            BASE_ANON="$anon"
            printf 'revocations %9d: anonymous %6.1f MB, up in %s s\n' 0 "$(calc "$anon / 1024" 1)" "$STARTED_S"
        else
            printf 'revocations %9d: anonymous %6.1f MB, up in %s s: %s bytes per revocation\n' "$count" \
                "$(calc "$anon / 1024" 1)" "$STARTED_S" "$(calc "($anon - $BASE_ANON) * 1024 / $count" 0)"
        fi
    done
    export DATABASE_URL="sqlite://$WORK/propagation.sqlite"
    BACKEND=SQLite
else
    separator="?"; [[ "$GATEHOUSE_TEST_DATABASE_URL" == *\?* ]] && separator="&"
    export DATABASE_URL="$GATEHOUSE_TEST_DATABASE_URL${separator}schema=revocation_$(date +%s)"
    BACKEND=PostgreSQL
fi

export BCRYPT_COST=4
"$BIN" migrate >/dev/null
A_PORT="$(free_port)"; B_PORT="$(free_port)"
start "$A_PORT"
start "$B_PORT"
RESULT="$(python3 scripts/bench/propagation.py "$A_PORT" "$B_PORT" "$TRIALS")"
stop_all
echo "$RESULT" | sed -E "s/^PROPAGATION/propagation on $BACKEND (two instances):/"
