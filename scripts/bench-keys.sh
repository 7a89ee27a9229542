#!/usr/bin/env bash
# Verification cost per signing algorithm over HTTP (issue 15), on a release
# `gatehouse serve` pinned to CPU 0 with wrk on CPU 1:
#
#   scripts/bench-keys.sh   # BENCH_DURATION=5s BENCH_CONNECTIONS=32 BENCH_RUNS=2
#                           # BENCH_DISTINCT_TOKENS=40000 by default
#
# For HS256, EdDSA, ES256 and RS256 in turn, one server each, alternating:
#   health    GET /health, the framework's floor;
#   reused    GET /api/v1/users/me with one token, again and again (what real clients
#             do: the verified-token cache answers after the first request);
#   distinct  the same with a pool of BENCH_DISTINCT_TOKENS tokens never seen before,
#             in turn (twice the cache's 20,000, so every request verifies a signature).
# Prints req/s, p99 and the server's CPU milliseconds per request (steadier than req/s
# on a shared machine), and the ratios to health summed over the alternations; goal:
# EdDSA reused/health >= 0.75. Then one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-5s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
RUNS="${BENCH_RUNS:-2}"
POOL="${BENCH_DISTINCT_TOKENS:-40000}"
SCRIPTS="$PWD/scripts/bench"
source "$SCRIPTS/prepare.sh" bench-keys

source "$SCRIPTS/measure.sh"
DISTINCT="$(with_report "$SCRIPTS/distinct.lua")"
REPORT="$SCRIPTS/report.lua"

ROWS=()
JSON=()
for ALG in HS256 EdDSA ES256 RS256; do
    echo "bench-keys: $ALG" >&2
    rm -f "$WORK"/bench-keys.sqlite* "$WORK/key.pem"
    unset JWT_ALGORITHM JWT_PRIVATE_KEY_FILE
    if [[ "$ALG" != HS256 ]]; then
        "$BIN" keys generate --algorithm "$ALG" --out "$WORK/key.pem" 2>/dev/null
        export JWT_ALGORITHM="$ALG" JWT_PRIVATE_KEY_FILE="$WORK/key.pem"
        KID="$("$BIN" keys public "$WORK/key.pem" 2>&1 >/dev/null | awk '{print $NF}')"
        scripts/with-pyjwt.sh python3 "$SCRIPTS/mint-tokens.py" "$WORK/key.pem" "$ALG" "$KID" "$POOL" >"$WORK/tokens"
    fi
    "$BIN" serve >"$WORK/server-$ALG.log" 2>&1 &
    SERVER_PID=$!
    until curl -sf "$URL/health" >/dev/null 2>&1; do sleep 0.01; done
    TOKEN="$(curl -sf -H 'Content-Type: application/json' -d '{"name":"Bench","email":"bench@example.com","password":"secret123"}' \
        "$URL/api/v1/auth/register" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')"
    if [[ "$ALG" == HS256 ]]; then
        # HS256 has no cache and no signature to spare: distinct tokens cost what one does.
        for i in $(seq 1 "$POOL"); do echo "$TOKEN"; done >"$WORK/tokens"
    fi
    export BENCH_TOKENS="$WORK/tokens"
    taskset -a -p -c 0 "$SERVER_PID" >/dev/null
    declare -A SUM=([health]=0 [reused]=0 [distinct]=0)
    declare -A CPU P99
    for round in $(seq 1 "$RUNS"); do
        measure "health-$ALG-$round" -s "$REPORT" "$URL/health"
        SUM[health]="$(calc "${SUM[health]} + $R_RPS" 1)"; CPU[health]="$R_CPU"; P99[health]="$R_P99"
        measure "reused-$ALG-$round" -s "$REPORT" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/me"
        SUM[reused]="$(calc "${SUM[reused]} + $R_RPS" 1)"; CPU[reused]="$R_CPU"; P99[reused]="$R_P99"
        [[ "$R_ERR" == 0 ]] || echo "bench-keys: $ALG reused had $R_ERR errors" >&2
        measure "distinct-$ALG-$round" -s "$DISTINCT" "$URL/api/v1/users/me"
        SUM[distinct]="$(calc "${SUM[distinct]} + $R_RPS" 1)"; CPU[distinct]="$R_CPU"; P99[distinct]="$R_P99"
        [[ "$R_ERR" == 0 ]] || echo "bench-keys: $ALG distinct had $R_ERR errors" >&2
    done
    if grep -q '"status":"error"' "$WORK/distinct-$ALG-$RUNS.out" 2>/dev/null; then echo "bench-keys: $ALG refused a token" >&2; fi
    REUSED_RATIO="$(calc "${SUM[reused]} / ${SUM[health]}")"
    DISTINCT_RATIO="$(calc "${SUM[distinct]} / ${SUM[health]}")"
    ROWS+=("$(printf '%-6s %10s %10s %10s %8s %8s %9s %9s %9s' "$ALG" \
        "$(calc "${SUM[health]} / $RUNS" 0)" "$(calc "${SUM[reused]} / $RUNS" 0)" "$(calc "${SUM[distinct]} / $RUNS" 0)" \
        "$REUSED_RATIO" "$DISTINCT_RATIO" "${CPU[health]}" "${CPU[reused]}" "${CPU[distinct]}")")
    JSON+=("{\"algorithm\":\"$ALG\",\"health_rps\":$(calc "${SUM[health]} / $RUNS" 1),\"reused_rps\":$(calc "${SUM[reused]} / $RUNS" 1),\"distinct_rps\":$(calc "${SUM[distinct]} / $RUNS" 1),\"reused_health\":$REUSED_RATIO,\"distinct_health\":$DISTINCT_RATIO,\"cpu_ms\":{\"health\":${CPU[health]},\"reused\":${CPU[reused]},\"distinct\":${CPU[distinct]}},\"p99_ms\":{\"health\":${P99[health]},\"reused\":${P99[reused]},\"distinct\":${P99[distinct]}}}")
    kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
done

printf '\n%-6s %10s %10s %10s %8s %8s %9s %9s %9s\n' alg "health/s" "reused/s" "distinct/s" "reused" "distinct" "cpu ms h" "cpu ms r" "cpu ms d"
printf '%s\n' "${ROWS[@]}"
printf '\n(reused and distinct are ratios to health, summed over %d alternations of %s; cpu ms is server CPU per request, last alternation; goal EdDSA reused >= 0.75)\n' "$RUNS" "$DURATION"
printf '%s\n' "${JSON[@]}"
