#!/usr/bin/env bash
# The cost of observability (issue 16): health and verify on a release `gatehouse serve`
# pinned to CPU 0, wrk on CPU 1, with
#   off       METRICS=off, LOG_LEVEL=warning (no request lines)
#   metrics   METRICS=on,  LOG_LEVEL=warning
#   defaults  METRICS=on,  LOG_LEVEL=info, LOG_FORMAT=text (one line per request, to a file)
#   json      METRICS=on,  LOG_LEVEL=info, LOG_FORMAT=json
#
#   scripts/bench-observability.sh   # BENCH_DURATION=5s BENCH_CONNECTIONS=32 BENCH_RUNS=3
#
# Prints req/s and server CPU ms per request for each, and each mode's throughput as a
# fraction of "off" (goal for the defaults: within 10 %, that is >= 0.90).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-5s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
RUNS="${BENCH_RUNS:-3}"
SCRIPTS="$PWD/scripts/bench"
source "$SCRIPTS/prepare.sh" bench-observability
source "$SCRIPTS/measure.sh"
REPORT="$SCRIPTS/report.lua"

# Rounds, each running every mode once on a fresh server, so that drift of a shared
# machine spreads over all modes instead of favouring the one measured first.
MODES=(off metrics defaults json)
declare -A HEALTH VERIFY HEALTH_CPU VERIFY_CPU LINES
for MODE in "${MODES[@]}"; do HEALTH[$MODE]=0; VERIFY[$MODE]=0; HEALTH_CPU[$MODE]=0; VERIFY_CPU[$MODE]=0; LINES[$MODE]=0; done
for round in $(seq 1 "$RUNS"); do
    for MODE in "${MODES[@]}"; do
        echo "bench-observability: round $round, $MODE" >&2
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
        # A second of warm-up, not measured.
        taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d1s "$URL/health" >/dev/null 2>&1
        measure "health-$MODE-$round" -s "$REPORT" "$URL/health"
        HEALTH[$MODE]="$(calc "${HEALTH[$MODE]} + $R_RPS" 1)"; HEALTH_CPU[$MODE]="$(calc "${HEALTH_CPU[$MODE]} + $R_CPU" 4)"
        measure "verify-$MODE-$round" -s "$REPORT" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/me"
        VERIFY[$MODE]="$(calc "${VERIFY[$MODE]} + $R_RPS" 1)"; VERIFY_CPU[$MODE]="$(calc "${VERIFY_CPU[$MODE]} + $R_CPU" 4)"
        kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
        LINES[$MODE]=$(( ${LINES[$MODE]} + $(grep -c ' request$\|"message":"request"' "$WORK/server-$MODE.log" || true) ))
    done
done
printf '\n%-9s %10s %10s %9s %9s %8s %8s %10s\n' mode "health/s" "verify/s" "cpu ms h" "cpu ms v" "h/off" "v/off" "lines"
for MODE in "${MODES[@]}"; do
    printf '%-9s %10s %10s %9s %9s %8s %8s %10s\n' "$MODE" "$(calc "${HEALTH[$MODE]} / $RUNS" 0)" "$(calc "${VERIFY[$MODE]} / $RUNS" 0)" \
        "$(calc "${HEALTH_CPU[$MODE]} / $RUNS" 4)" "$(calc "${VERIFY_CPU[$MODE]} / $RUNS" 4)" \
        "$(calc "${HEALTH[$MODE]} / ${HEALTH[off]}")" "$(calc "${VERIFY[$MODE]} / ${VERIFY[off]}")" "${LINES[$MODE]}"
done
printf '\n(%d rounds of %s per mode; cpu ms is server CPU per request, averaged; goal for defaults: h/off and v/off >= 0.90)\n' "$RUNS" "$DURATION"
