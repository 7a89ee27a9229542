#!/usr/bin/env bash
# The cost of observability (issue 16): health and verify on a release `gatehouse serve`
# pinned to CPU 0, wrk on CPU 1, with
#   off       METRICS=off, LOG_LEVEL=warning (no request lines)
#   metrics   METRICS=on,  LOG_LEVEL=warning
#   defaults  METRICS=on,  LOG_LEVEL=info, LOG_FORMAT=text (one line per request, to a file)
#   json      METRICS=on,  LOG_LEVEL=info, LOG_FORMAT=json
#
#   scripts/bench-observability.sh   # BENCH_DURATION=5s BENCH_CONNECTIONS=32 BENCH_RUNS=2
#
# Prints req/s and server CPU ms per request for each, and each mode's throughput as a
# fraction of "off" (goal for the defaults: within 10 %, that is >= 0.90).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-5s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
RUNS="${BENCH_RUNS:-2}"
SCRIPTS="$PWD/scripts/bench"
source "$SCRIPTS/prepare.sh" bench-observability
source "$SCRIPTS/measure.sh"
REPORT="$SCRIPTS/report.lua"

ROWS=()
declare -A BASE
for MODE in off metrics defaults json; do
    echo "bench-observability: $MODE" >&2
    rm -f "$WORK"/bench-observability.sqlite*
    case "$MODE" in
        off) export METRICS=off LOG_LEVEL=warning LOG_FORMAT=text ;;
        metrics) export METRICS=on LOG_LEVEL=warning LOG_FORMAT=text ;;
        defaults) export METRICS=on LOG_LEVEL=info LOG_FORMAT=text ;;
        json) export METRICS=on LOG_LEVEL=info LOG_FORMAT=json ;;
    esac
    "$BIN" serve >"$WORK/server-$MODE.log" 2>&1 &
    SERVER_PID=$!
    until curl -sf "$URL/health" >/dev/null 2>&1; do sleep 0.01; done
    TOKEN="$(curl -sf -H 'Content-Type: application/json' -d '{"name":"Bench","email":"bench@example.com","password":"secret123"}' \
        "$URL/api/v1/auth/register" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')"
    taskset -a -p -c 0 "$SERVER_PID" >/dev/null
    HEALTH=0; VERIFY=0
    for round in $(seq 1 "$RUNS"); do
        measure "health-$MODE-$round" -s "$REPORT" "$URL/health"
        HEALTH="$(calc "$HEALTH + $R_RPS" 1)"; HEALTH_CPU="$R_CPU"
        measure "verify-$MODE-$round" -s "$REPORT" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/me"
        VERIFY="$(calc "$VERIFY + $R_RPS" 1)"; VERIFY_CPU="$R_CPU"
    done
    LINES="$(grep -c 'request' "$WORK/server-$MODE.log" || true)"
    kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    if [[ "$MODE" == off ]]; then BASE[health]="$HEALTH"; BASE[verify]="$VERIFY"; fi
    ROWS+=("$(printf '%-9s %10s %10s %9s %9s %8s %8s %10s' "$MODE" "$(calc "$HEALTH / $RUNS" 0)" "$(calc "$VERIFY / $RUNS" 0)" \
        "$HEALTH_CPU" "$VERIFY_CPU" "$(calc "$HEALTH / ${BASE[health]}")" "$(calc "$VERIFY / ${BASE[verify]}")" "$LINES")")
done
printf '\n%-9s %10s %10s %9s %9s %8s %8s %10s\n' mode "health/s" "verify/s" "cpu ms h" "cpu ms v" "h/off" "v/off" "lines"
printf '%s\n' "${ROWS[@]}"
printf '\n(%d alternations of %s; cpu ms is server CPU per request, last alternation; goal for defaults: h/off and v/off >= 0.90)\n' "$RUNS" "$DURATION"
