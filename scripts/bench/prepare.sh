# Sourced from the repository root by scripts/bench.sh and scripts/leak-check.sh, with a
# name for messages: `source scripts/bench/prepare.sh bench`. Leaves
#   wrk installed (from Debian's packages if missing);
#   BIN     the deployable release binary (Swift runtime linked in, built in its own
#           .build-static so switching does not rebuild the usual .build), or BENCH_BIN;
#   WORK    a work directory, removed on exit together with the server in SERVER_PID;
#   PORT, URL  a free port on 127.0.0.1;
#   the server's environment: SQLite in WORK, random secrets, rate limits off, one
#   trusted proxy hop (the load scripts give each login or registration its own client
#   address in X-Forwarded-For, so one wrk is not one client of the hashing queue).
NAME="$1"

if ! command -v wrk >/dev/null; then
    echo "$NAME: installing wrk from Debian's packages" >&2
    SUDO=""; [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

BUILD=(swift build -c release --static-swift-stdlib --scratch-path .build-static)
if [[ -n "${BENCH_BIN:-}" ]]; then
    # A binary built before (say, copied aside so that editing the sources during a long
    # run cannot change what is measured).
    BIN="$BENCH_BIN"
else
    echo "$NAME: building the release binary" >&2
    "${BUILD[@]}" --product gatehouse >/dev/null
    BIN="$("${BUILD[@]}" --show-bin-path)/gatehouse"
fi

WORK="$(mktemp -d "/tmp/gatehouse-$NAME.XXXXXX")"
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$WORK/$NAME.sqlite" PORT HOST=127.0.0.1 LOG_LEVEL=warning \
    JWT_ACCESS_SECRET="$("$BIN" secret)" JWT_REFRESH_SECRET="$("$BIN" secret)" \
    RATE_LIMIT_LOGIN=off RATE_LIMIT_REGISTER=off RATE_LIMIT_REFRESH=off LOGIN_FAILURES_PER_ACCOUNT=off TRUST_PROXY=true
