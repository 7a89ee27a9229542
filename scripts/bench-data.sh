#!/usr/bin/env bash
# The data path (issue 12): what each request that touches the database costs the
# server, in CPU time per request (utime+stime of the server over the run, divided by
# its requests; far steadier than req/s on a shared machine) and requests per
# CPU-second, next to req/s. The server runs on CPU 0 with wrk on CPU 1, at
# BCRYPT_COST=4 so bcrypt does not hide the rest (the hash's own time is reported
# apart), with REFRESH_REUSE_INTERVAL=1h so the grace scenario stays in its window.
#
#   scripts/bench-data.sh                                   # SQLite in a fresh file
#   scripts/test-postgres.sh scripts/bench-data.sh          # PostgreSQL: a throwaway cluster
#   BENCH_SEED_USERS=1000000 scripts/bench-data.sh          # the same at a million users
#
# With BENCH_SEED_USERS the database is first filled by scripts/seed-data.sh (three
# sessions a user, one long expired). The session pruner starts deleting those at
# once: for the first BENCH_PRUNE_WINDOW seconds (20) light probes read /users/me and
# refresh (grace path) and report their p99, and the time the prune took is printed.
#
# Scenarios: refresh grace path, refresh rotation, login, register, logout.
# BENCH_DURATION (10s), BENCH_CONNECTIONS (32).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
SCRIPTS="$PWD/scripts/bench"
source "$SCRIPTS/prepare.sh" data
export BCRYPT_COST=4 REFRESH_REUSE_INTERVAL=1h
BACKEND=sqlite
if [[ -n "${GATEHOUSE_TEST_DATABASE_URL:-}" ]]; then
    separator="?"; [[ "$GATEHOUSE_TEST_DATABASE_URL" == *\?* ]] && separator="&"
    export DATABASE_URL="$GATEHOUSE_TEST_DATABASE_URL${separator}schema=bench_$(date +%s)"
    BACKEND=postgresql
fi
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
HZ="$(getconf CLK_TCK)"

SEEDED=""
if [[ -n "${BENCH_SEED_USERS:-}" ]]; then
    "$BIN" migrate >/dev/null
    SEEDED="$(SEED_USERS="$BENCH_SEED_USERS" scripts/seed-data.sh "$DATABASE_URL")"
    echo "$SEEDED" >&2
fi
session_count() {
    if [[ "$BACKEND" == sqlite ]]; then
        sqlite3 "${DATABASE_URL#sqlite://}" "SELECT COUNT(*) FROM gatehouse_sessions" 2>/dev/null || echo -1
    else
        local schema="${DATABASE_URL##*schema=}"
        psql -tA "${DATABASE_URL%[?&]schema=*}" -c "SELECT COUNT(*) FROM $schema.gatehouse_sessions" 2>/dev/null || echo -1
    fi
}

STARTED="$(date +%s.%N)"
taskset -c 0 "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
until curl -sf "$URL/health" >/dev/null 2>&1; do sleep 0.01; done
taskset -a -p -c 0 "$SERVER_PID" >/dev/null

json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
REGISTER='{"name":"Bench","email":"bench@example.com","password":"secret123"}'
TOKEN="$(curl -sf -H 'Content-Type: application/json' -d "$REGISTER" "$URL/api/v1/auth/register" | json accessToken)"
export BENCH_TOKEN="$TOKEN"
login_cookie() {
    curl -sf -c "$WORK/jar" -H 'Content-Type: application/json' -d '{"email":"bench@example.com","password":"secret123"}' \
        "$URL/api/v1/auth/login" >/dev/null
    awk '$6 == "refreshToken" {print $7}' "$WORK/jar"
}
# Grace: a session whose first token has been rotated once.
export BENCH_GRACE_COOKIE="$(login_cookie)"
curl -sf -X POST -H "Cookie: refreshToken=$BENCH_GRACE_COOKIE" "$URL/api/v1/auth/refresh" >/dev/null
# Rotation: four sessions, one per wrk thread.
export BENCH_COOKIES="$WORK/cookies"
: >"$BENCH_COOKIES"
for i in 1 2 3 4; do login_cookie >>"$BENCH_COOKIES"; done

if [[ -n "$SEEDED" ]]; then
    # The pruner is deleting a third of the sessions now: probe while it works.
    WINDOW="${BENCH_PRUNE_WINDOW:-20}"
    python3 "$SCRIPTS/probe.py" 127.0.0.1 "$PORT" /api/v1/users/me "$TOKEN" "$WINDOW" 0.02 >"$WORK/probe-me" &
    ME_PID=$!
    python3 "$SCRIPTS/probe.py" 127.0.0.1 "$PORT" /api/v1/auth/refresh "$BENCH_GRACE_COOKIE" "$WINDOW" 0.02 cookie >"$WORK/probe-refresh" &
    REFRESH_PID=$!
    TARGET=$(( BENCH_SEED_USERS * 2 + 6 ))
    PRUNED_S=""
    while kill -0 "$ME_PID" 2>/dev/null; do
        count="$(session_count)"
        if [[ -z "$PRUNED_S" && "$count" -ge 0 && "$count" -le "$TARGET" ]]; then
            PRUNED_S="$(calc "$(date +%s.%N) - $STARTED" 1)"
        fi
        sleep 0.5
    done
    wait "$ME_PID" "$REFRESH_PID"
    # The scenarios measure the steady state: wait for the prune to finish (10 min at most).
    for _ in $(seq 1 1200); do
        count="$(session_count)"
        if [[ "$count" -ge 0 && "$count" -le "$TARGET" ]]; then
            [[ -z "$PRUNED_S" ]] && PRUNED_S="$(calc "$(date +%s.%N) - $STARTED" 1)"
            break
        fi
        sleep 0.5
    done
    PRUNE_LINE="prune of $BENCH_SEED_USERS expired sessions: done after ${PRUNED_S:-more than 600} s; in its first $WINDOW s /users/me $(sed -E 's/PROBE //' "$WORK/probe-me"), refresh $(sed -E 's/PROBE //' "$WORK/probe-refresh")"
fi

# One cost-4 hash, for what login and register spend outside the data path: Python's
# bcrypt from PyPI (installed if missing) runs the same OpenBSD C code as the server's
# (a perf profile of the login scenario puts c_hb_bcrypt_hashpass at 62 % of 1.66 ms,
# 1.03 ms; this measures about 1.0 ms). "req/CPU-s w/o hash" takes it off each request.
python3 -c 'import bcrypt' 2>/dev/null || python3 -m pip install --quiet bcrypt >/dev/null 2>&1 || true
HASH_MS="$(python3 - <<'PY'
import bcrypt, time
start = time.perf_counter()
for _ in range(50): bcrypt.hashpw(b"secret123", bcrypt.gensalt(4))
print("%.3f" % ((time.perf_counter() - start) * 1000 / 50))
PY
)" || HASH_MS="n/a"

ROWS=()
run() { # name wrk-arguments…
    local name="$1"; shift
    local before after line requests seconds ticks
    before="$(cpu_ticks)"
    taskset -c 1 wrk --latency "$@" >"$WORK/$name.out" 2>&1
    after="$(cpu_ticks)"
    line="$(grep '^BENCH ' "$WORK/$name.out" | tail -n 1)"
    requests="$(echo "$line" | sed -E 's/.*requests=([0-9]+).*/\1/')"
    seconds="$(echo "$line" | sed -E 's/.*seconds=([0-9.]+).*/\1/')"
    errors="$(echo "$line" | sed -E 's/.*errors=([0-9]+).*/\1/')"
    ticks=$(( after - before ))
    local cpu_ms per_cpu_s
    requests="${requests:-0}"; seconds="${seconds:-1}"; errors="${errors:-0}"
    cpu_ms="$(calc "1000 * $ticks / $HZ / ($requests > 0 ? $requests : 1)" 3)"
    per_cpu_s="$(calc "($ticks > 0 ? $requests / ($ticks / $HZ) : 0)" 0)"
    # Login and register each run one hash: their CPU without it as well.
    local hashes=0 without="" per_cpu_s_without=""
    [[ "$name" == login || "$name" == register ]] && hashes=1
    if [[ "$hashes" -eq 1 && "$HASH_MS" != n/a ]]; then
        without="$(calc "$cpu_ms - $HASH_MS" 3)"
        per_cpu_s_without="$(calc "($without > 0 ? 1000 / $without : 0)" 0)"
    fi
    ROWS+=("$(printf '%-18s %10s %12s %14s %7s %22s' "$name" "$(calc "$requests / $seconds" 1)" "$cpu_ms" "$per_cpu_s" "$errors" \
        "${per_cpu_s_without:--}")")
    echo "{\"backend\":\"$BACKEND\",\"scenario\":\"$name\",\"rps\":$(calc "$requests / $seconds" 1),\"cpu_ms_per_request\":$cpu_ms,\"requests_per_cpu_second\":$per_cpu_s,\"requests_per_cpu_second_without_hash\":${per_cpu_s_without:-null},\"errors\":$errors}" >>"$WORK/json"
}
with_report() { cat "$1" "$SCRIPTS/report.lua" >"$WORK/$(basename "$1")"; echo "$WORK/$(basename "$1")"; }

run grace -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$(with_report "$SCRIPTS/grace.lua")" "$URL"
run rotation -t4 -c4 -d"$DURATION" -s "$(with_report "$SCRIPTS/refresh.lua")" "$URL"
run login -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$(with_report "$SCRIPTS/login.lua")" "$URL"
run register -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$(with_report "$SCRIPTS/register.lua")" "$URL"
run logout -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$(with_report "$SCRIPTS/logout.lua")" "$URL"


printf '\nbackend: %s, server on CPU 0, wrk on CPU 1, %s per scenario, BCRYPT_COST=4\n' "$BACKEND" "$DURATION"
printf '%-18s %10s %12s %14s %7s %22s\n' scenario "req/s" "CPU ms/req" "req/CPU-s" errors "req/CPU-s w/o hash"
printf '%s\n' "${ROWS[@]}"
printf 'one cost-4 bcrypt hash (Python bcrypt, the same C code): %s ms\n' "$HASH_MS"
[[ -n "$SEEDED" ]] && printf '%s\n%s\n' "$SEEDED" "$PRUNE_LINE"
echo
cat "$WORK/json"
