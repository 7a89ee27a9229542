#!/usr/bin/env bash
# Leak check of the request paths: the same work, round after round, on one server.
#
#   scripts/leak-check.sh        # LEAK_ROUNDS=16 by default
#
# Each round logs in four sessions, rotates their refresh tokens for 5 s (about 2,000
# rotations) and verifies access tokens for 3 s (about 40,000 requests), then prints the
# server's anonymous (heap) and resident memory. The database hardly grows, so a leak
# shows as growth in proportion to the rounds; caches and allocator arenas level off.
# Builds and runs the same binary as scripts/bench.sh (scripts/bench/prepare.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${LEAK_ROUNDS:-16}"
source scripts/bench/prepare.sh leak-check
export BCRYPT_COST=4
taskset -c 0 "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
until curl -sf "$URL/health" >/dev/null 2>&1; do sleep 0.01; done

USER='{"name":"Leak Check","email":"leak@example.com","password":"secret123"}'
TOKEN="$(curl -sf -H 'Content-Type: application/json' -d "$USER" "$URL/api/v1/auth/register" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')"
export BENCH_COOKIES="$WORK/cookies"
status_kb() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$SERVER_PID/status"; }

printf '%6s %10s %12s\n' round "anon kB" "resident kB"
for round in $(seq 1 "$ROUNDS"); do
    : >"$WORK/cookies"
    for i in 1 2 3 4; do
        curl -sf -c "$WORK/jar" -H 'Content-Type: application/json' \
            -d '{"email":"leak@example.com","password":"secret123"}' "$URL/api/v1/auth/login" >/dev/null
        awk '$6 == "refreshToken" {print $7}' "$WORK/jar" >>"$WORK/cookies"
    done
    taskset -c 1 wrk -t4 -c4 -d5s -s scripts/bench/refresh.lua "$URL" >/dev/null
    taskset -c 1 wrk -t1 -c32 -d3s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/me" >/dev/null
    printf '%6d %10d %12d\n' "$round" "$(status_kb RssAnon)" "$(status_kb VmRSS)"
done
