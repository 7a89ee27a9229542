#!/usr/bin/env bash
# Load benchmark of a release `gatehouse serve` on a fresh SQLite file (issue 5).
#
#   scripts/bench.sh     # BENCH_DURATION=10s BENCH_CONNECTIONS=32 BENCH_RUNS=3 by default
#
# One server process serves the whole benchmark: started on every core (so its event
# loops and bcrypt pool are sized as in production), then pinned to CPU 0 with wrk on
# CPU 1 for each single-core scenario, and given both cores back for login. The whole
# sequence runs BENCH_RUNS times against that same process; its resident memory after
# each run is the leak check (it must not grow once the first run has warmed caches).
# Absolute figures drift on shared machines, so the ratios taken within the run are
# what to compare:
#   verify/health  authenticated request vs the framework's floor (summed over every
#                  alternation of every run)
#   login/ceiling  logins/s vs cores ÷ one bcrypt hash
# The server starts with BENCH_REVOCATIONS (100,000) live revocations in its list.
# Prints a table (the last run) and one JSON line per scenario; then the cost of
# observability (scripts/bench-observability.sh: metrics and request log off vs on), the revocation
# figures (scripts/bench-revocation.sh) and the data-path scenarios (refresh grace path and rotation, login and register at cost 4, logout) on
# SQLite and PostgreSQL, from scripts/bench-data.sh (see the end of this script).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
RUNS="${BENCH_RUNS:-3}"
CORES="$(nproc)"
SCRIPTS="$PWD/scripts/bench"

source "$SCRIPTS/prepare.sh" bench

# Arithmetic with awk (no bc needed): calc "1 / 3" [decimals]
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
anon_kb() { awk '/^RssAnon/ {print $2}' "/proc/$SERVER_PID/status"; }
peak_kb() { awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status"; }
# Proportional set size: resident pages, shared ones divided among their users.
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$SERVER_PID/smaps_rollup"; }

start_server() {
    local started
    started="$(date +%s.%N)"
    "$BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    until curl -sf "$URL/health" >/dev/null 2>&1; do sleep 0.01; done
    STARTUP_S="$(calc "$(date +%s.%N) - $started")"
}

# Moves every thread of the server to these CPUs (threads started later inherit it).
pin_server() { taskset -a -p -c "$1" "$SERVER_PID" >/dev/null; }

stop_server() {
    kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# run NAME WRK-CPUS [wrk arguments…]: one scenario; leaves figures in R_* variables.
# The server's CPU time (utime + stime) in clock ticks: per request it is far steadier
# than req/s on a shared machine.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
HZ="$(getconf CLK_TCK)"
# CPU milliseconds per request between two tick readings: cpu_ms TICKS REQUESTS
cpu_ms() { calc "1000 * ${1:-0} / $HZ / (${2:-0} > 0 ? ${2:-0} : 1)" 3; }

run() {
    local name="$1" cpus="$2"; shift 2
    local before
    before="$(cpu_ticks)"
    taskset -c "$cpus" wrk --latency "$@" >"$WORK/$name.out" 2>&1
    local line
    line="$(grep '^BENCH ' "$WORK/$name.out" | tail -n 1)"
    R_CPU="$(cpu_ms "$(( $(cpu_ticks) - before ))" "$(echo "$line" | sed -E 's/.*requests=([0-9]+).*/\1/')")"
    R_RPS="$(echo "$line" | sed -E 's/.*requests=([0-9]+) seconds=([0-9.]+).*/\1 \2/' | awk '{printf "%.1f", $1 / $2}')"
    R_P50="$(echo "$line" | sed -E 's/.*p50_ms=([0-9.]+).*/\1/')"
    R_P99="$(echo "$line" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/')"
    R_ERR="$(echo "$line" | sed -E 's/.*errors=([0-9]+).*/\1/')"
}

with_report() { # scenario script → scenario + report in one file
    local out="$WORK/$(basename "$1" .lua)-report.lua"
    cat "$1" "$SCRIPTS/report.lua" >"$out"
    echo "$out"
}

record() { # name rps p50 p99 errors anon_kb [cpu_ms_per_request]
    ROWS+=("$(printf '%-26s %10s %9s %9s %7s %9s %11s' "$1" "$2" "$3" "$4" "$5" "$(calc "$6 / 1024" 1)" "${7:--}")")
    JSON+=("{\"scenario\":\"$1\",\"rps\":$2,\"p50_ms\":$3,\"p99_ms\":$4,\"errors\":$5,\"anon_kb\":$6,\"cpu_ms_per_request\":${7:-null}}")
}

# --- setup: 100,000 live revocations (other users' sessions, made now, so the list
# holds them for the whole run: every verify looks its user up among them), the
# server, one user ---
REVOCATIONS="${BENCH_REVOCATIONS:-100000}"
"$BIN" migrate >/dev/null
scripts/bench/seed-revocations.sh "${DATABASE_URL#sqlite://}" "$REVOCATIONS"
start_server
FIRST_STARTUP="$STARTUP_S"
sleep 1
IDLE_KB="$(rss_kb)"
IDLE_ANON_KB="$(anon_kb)"
IDLE_PSS_KB="$(pss_kb)"
REGISTER='{"name":"Bench","email":"bench@example.com","password":"secret123"}'
TOKEN="$(curl -sf -H 'Content-Type: application/json' -d "$REGISTER" "$URL/api/v1/auth/register" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')"
export BENCH_COOKIES="$WORK/cookies"
REPORT="$SCRIPTS/report.lua"
LOGIN_SCRIPT="$(with_report "$SCRIPTS/login.lua")"
ALL_CPUS="0-$(( CORES - 1 ))"
declare -A SUM_RPS
RUN_KB=()
ANON_KB=()
PSS_KB=()

for run_number in $(seq 1 "$RUNS"); do
    ROWS=()
    JSON=()
    echo "bench: run $run_number of $RUNS" >&2
    # Four fresh sessions for the rotation flow: the previous run spent the old ones.
    : >"$WORK/cookies"
    for i in $(seq 1 4); do
        curl -sf -c "$WORK/jar$i" -H 'Content-Type: application/json' \
            -d '{"email":"bench@example.com","password":"secret123"}' "$URL/api/v1/auth/login" >/dev/null
        awk '$6 == "refreshToken" {print $7}' "$WORK/jar$i" >>"$WORK/cookies"
    done

    # --- server on CPU 0, wrk on CPU 1; health and verify alternate ---
    pin_server 0
    for round in 1 2; do
        run "health-$round" 1 -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$REPORT" "$URL/health"
        SUM_RPS[health]="$(calc "${SUM_RPS[health]:-0} + $R_RPS" 1)"
        [[ $round -eq 2 ]] && record health "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" "$(anon_kb)" "$R_CPU"
        run "verify-$round" 1 -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$REPORT" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/me"
        SUM_RPS[verify]="$(calc "${SUM_RPS[verify]:-0} + $R_RPS" 1)"
        [[ $round -eq 2 ]] && record verify "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" "$(anon_kb)" "$R_CPU"
    done
    run refresh 1 -t4 -c4 -d"$DURATION" -s "$(with_report "$SCRIPTS/refresh.lua")" "$URL"
    record refresh "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" "$(anon_kb)" "$R_CPU"
    run register 1 -t2 -c4 --timeout 30s -d"$DURATION" -s "$(with_report "$SCRIPTS/register.lua")" "$URL"
    record register "$R_RPS" "$R_P50" "$R_P99" "$R_ERR" "$(anon_kb)" "$R_CPU"

    # --- login at the default cost, server on every core ---
    pin_server "$ALL_CPUS"
    # One hash: the mean of single-connection logins on the otherwise idle server.
    run login-single "$ALL_CPUS" -t1 -c1 --timeout 30s -d"$DURATION" -s "$LOGIN_SCRIPT" "$URL/api/v1/auth/login"
    ONE_HASH_S="$(calc "1 / $R_RPS" 6)"
    CEILING="$(calc "$CORES / $ONE_HASH_S" 2)"
    # Saturate logins while a light probe (20 requests/s on its own connection) measures
    # verify latency: is the event loop still free while both cores hash?
    LOGIN_TICKS="$(cpu_ticks)"
    taskset -c "$ALL_CPUS" wrk --latency --timeout 30s -t1 -c"$(( CORES * 4 ))" -d"$DURATION" -s "$LOGIN_SCRIPT" \
        "$URL/api/v1/auth/login" >"$WORK/login.out" 2>&1 &
    LOGIN_WRK=$!
    sleep 1
    PROBE="$(python3 "$SCRIPTS/probe.py" 127.0.0.1 "$PORT" /api/v1/users/me "$TOKEN" "$(( ${DURATION%s} - 2 ))" 0.05)"
    DURING_P50="$(echo "$PROBE" | sed -E 's/.*p50_ms=([0-9.]+).*/\1/')"
    DURING_P99="$(echo "$PROBE" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/')"
    DURING_N="$(echo "$PROBE" | sed -E 's/.*requests=([0-9]+).*/\1/')"
    DURING_ERR="$(echo "$PROBE" | sed -E 's/.*errors=([0-9]+).*/\1/')"
    wait "$LOGIN_WRK"
    LOGIN_TICKS=$(( $(cpu_ticks) - LOGIN_TICKS ))
    line="$(grep '^BENCH ' "$WORK/login.out" | tail -n 1)"
    LOGIN_RPS="$(echo "$line" | sed -E 's/.*requests=([0-9]+) seconds=([0-9.]+).*/\1 \2/' | awk '{printf "%.1f", $1 / $2}')"
    record login "$LOGIN_RPS" "$(echo "$line" | sed -E 's/.*p50_ms=([0-9.]+).*/\1/')" \
        "$(echo "$line" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/')" "$(echo "$line" | sed -E 's/.*errors=([0-9]+).*/\1/')" "$(anon_kb)" \
        "$(cpu_ms "$LOGIN_TICKS" "$(echo "$line" | sed -E 's/.*requests=([0-9]+).*/\1/')")"
    record verify-during-login "$(calc "$DURING_N / (${DURATION%s} - 2)" 1)" "$DURING_P50" "$DURING_P99" "$DURING_ERR" "$(anon_kb)"
    LOGIN_RATIO="$(calc "$LOGIN_RPS / $CEILING")"
    sleep 1
    RUN_KB+=("$(rss_kb)")
    ANON_KB+=("$(anon_kb)")
    PSS_KB+=("$(pss_kb)")
done
VERIFY_RATIO="$(calc "${SUM_RPS[verify]} / ${SUM_RPS[health]}")"
PEAK_KB="$(peak_kb)"
stop_server

# --- start-up on the existing database ---
start_server
RESTART_S="$STARTUP_S"
stop_server

mb_list() { for kb in "$@"; do calc "$kb / 1024" 1; echo -n " "; done; }
RUN_MB="$(mb_list "${RUN_KB[@]}")"
ANON_MB="$(mb_list "${ANON_KB[@]}")"
PSS_MB="$(mb_list "${PSS_KB[@]}")"
GROWTH_KB=$(( ${RUN_KB[-1]} - ${RUN_KB[0]} ))
ANON_GROWTH_KB=$(( ${ANON_KB[-1]} - ${ANON_KB[0]} ))
printf '\n%-26s %10s %9s %9s %7s %9s %11s\n' scenario "req/s" "p50 ms" "p99 ms" errors "anon MB" "CPU ms/req"
printf '%s\n' "${ROWS[@]}"
printf '\nverify/health               %s   (target >= 0.80; %d alternations; %d live revocations)\n' "$VERIFY_RATIO" $(( RUNS * 2 )) "$REVOCATIONS"
printf 'login/(cores / one hash)    %s   (%s cores, one hash %.1f ms, ceiling %s/s; target >= 0.95)\n' \
    "$LOGIN_RATIO" "$CORES" "$(calc "$ONE_HASH_S * 1000" 1)" "$CEILING"
printf 'verify during login         p50 %s ms, p99 %s ms   (target p99 <= 20 ms)\n' "$DURING_P50" "$DURING_P99"
printf 'memory idle                 anonymous %s MB, PSS %s MB (resident %s MB)\n' \
    "$(calc "$IDLE_ANON_KB / 1024" 1)" "$(calc "$IDLE_PSS_KB / 1024" 1)" "$(calc "$IDLE_KB / 1024" 1)"
printf 'memory after each run       anonymous %s MB (run 1 to %d: %+d kB), PSS %s MB, resident %s MB (%+d kB); peak resident %d MB   (target: no growth)\n' \
    "${ANON_MB% }" "$RUNS" "$ANON_GROWTH_KB" "${PSS_MB% }" "${RUN_MB% }" "$GROWTH_KB" $(( PEAK_KB / 1024 ))
printf 'start-up to /health         first %.3f s, existing database %.3f s   (target <= 0.5 s)\n\n' "$FIRST_STARTUP" "$RESTART_S"
printf '%s\n' "${JSON[@]}"
printf '{"verify_health_ratio":%s,"login_ceiling_ratio":%s,"idle_anon_kb":%d,"idle_pss_kb":%d,"idle_rss_kb":%d,"peak_rss_kb":%d,"anon_after_runs_kb":[%s],"pss_after_runs_kb":[%s],"rss_after_runs_kb":[%s],"startup_s":%.3f}\n' \
    "$VERIFY_RATIO" "$LOGIN_RATIO" "$IDLE_ANON_KB" "$IDLE_PSS_KB" "$IDLE_KB" "$PEAK_KB" "$(IFS=,; echo "${ANON_KB[*]}")" \
    "$(IFS=,; echo "${PSS_KB[*]}")" "$(IFS=,; echo "${RUN_KB[*]}")" "$RESTART_S"

# The cost of observability (issue 16): health and verify with metrics and the request
# log off, and on at their defaults (text and JSON lines), interleaved on fresh servers
# (scripts/bench-observability.sh; BENCH_OBSERVABILITY=0 skips it). The scenarios above
# run with LOG_LEVEL=warning (no request lines) and metrics on.
if [[ "${BENCH_OBSERVABILITY:-1}" != 0 ]]; then
    echo
    BENCH_BIN="$BIN" scripts/bench-observability.sh
fi

# Instant revocation (issue 14): the list's memory per entry (SQLite) and propagation
# between two instances, polled (SQLite) and notified (PostgreSQL). BENCH_REVOCATION=0
# skips it.
if [[ "${BENCH_REVOCATION:-1}" != 0 ]]; then
    echo
    BENCH_BIN="$BIN" scripts/bench-revocation.sh
    if [[ "${BENCH_POSTGRES:-1}" != 0 ]]; then
        BENCH_BIN="$BIN" scripts/test-postgres.sh scripts/bench-revocation.sh
    fi
fi

# The data path (issue 12): every request that touches the database, in CPU time per
# request at BCRYPT_COST=4, on SQLite and then on a throwaway PostgreSQL cluster
# (scripts/bench-data.sh; BENCH_DATA=0 skips both, BENCH_POSTGRES=0 the second).
if [[ "${BENCH_DATA:-1}" != 0 ]]; then
    echo
    scripts/bench-data.sh
    if [[ "${BENCH_POSTGRES:-1}" != 0 ]]; then
        echo
        scripts/test-postgres.sh scripts/bench-data.sh
    fi
fi
