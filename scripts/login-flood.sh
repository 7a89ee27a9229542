#!/usr/bin/env bash
# A login flood against a release `gatehouse serve` (issue 10, item 1): wrk sends logins
# with distinct unknown emails from FLOOD_ADDRESSES (50) client addresses, each far under
# the per-IP limit's reach (rate limits off, as a flood from enough addresses would be),
# while a real user logs in and a light probe reads /users/me.
#
#   scripts/login-flood.sh                              # PASSWORD_HASH_QUEUE default
#   PASSWORD_HASH_QUEUE=100000 scripts/login-flood.sh   # practically unbounded: the old behaviour
#
# BCRYPT_COST (12), FLOOD_DURATION (20s), FLOOD_CONNECTIONS (100). Prints the flood's
# answers by status, how long the real login took and what it got, the probe's p50/p99,
# and the server's CPU seconds per flood request.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${FLOOD_DURATION:-20s}"
CONNECTIONS="${FLOOD_CONNECTIONS:-100}"
SCRIPTS="$PWD/scripts/bench"
source "$SCRIPTS/prepare.sh" flood
export BCRYPT_COST="${BCRYPT_COST:-12}" TRUST_PROXY=true
[[ -n "${PASSWORD_HASH_QUEUE:-}" ]] && export PASSWORD_HASH_QUEUE

"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
until curl -sf "$URL/health" >/dev/null 2>&1; do sleep 0.01; done

REGISTERED="$(curl -sf -H 'Content-Type: application/json' -H 'X-Forwarded-For: 192.0.2.1' \
    -d '{"name":"Real","email":"real@example.com","password":"secret123"}' "$URL/api/v1/auth/register")"
TOKEN="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["accessToken"])' "$REGISTERED")"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
TICKS_BEFORE="$(cpu_ticks)"

wrk -t 4 -c "$CONNECTIONS" -d "$DURATION" --timeout 120s -s "$SCRIPTS/flood.lua" "$URL" >"$WORK/flood.out" 2>&1 &
WRK_PID=$!
python3 "$SCRIPTS/probe.py" 127.0.0.1 "$PORT" /api/v1/users/me "$TOKEN" "$(( ${DURATION%s} - 4 ))" 0.05 >"$WORK/probe.out" &
PROBE_PID=$!
sleep 3
REAL="$(python3 - "$PORT" <<'PY'
import http.client, json, sys, time
connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=300)
started = time.monotonic()
connection.request("POST", "/api/v1/auth/login", body=json.dumps({"email": "real@example.com", "password": "secret123"}),
                   headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.1"})
response = connection.getresponse()
response.read()
print("REAL status=%d seconds=%.3f retry_after=%s" % (response.status, time.monotonic() - started, response.getheader("Retry-After")))
PY
)"
wait "$WRK_PID" "$PROBE_PID"
TICKS_AFTER="$(cpu_ticks)"
FLOOD="$(grep '^FLOOD ' "$WORK/flood.out")"
REQUESTS="$(echo "$FLOOD" | sed -E 's/.*requests=([0-9]+).*/\1/')"
HZ="$(getconf CLK_TCK)"
echo "queue: ${PASSWORD_HASH_QUEUE:-default}, cost $BCRYPT_COST, $CONNECTIONS connections for $DURATION"
echo "$FLOOD"
echo "$REAL"
cat "$WORK/probe.out"
awk -v t=$(( TICKS_AFTER - TICKS_BEFORE )) -v hz="$HZ" -v n="$REQUESTS" \
    'BEGIN { printf "SERVER cpu_s=%.2f cpu_ms_per_flood_request=%.3f\n", t / hz, (n > 0 ? 1000 * t / hz / n : 0) }'
