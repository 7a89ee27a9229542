#!/usr/bin/env bash
# The account page in a real browser (SPEC.md §3.9): headless Chromium driven by Selenium
# against a live `gatehouse serve`, running Tests/Browser/account_page.py.
#
# Chromium and chromedriver come from Debian's packages (installed here when missing; no
# browser download), Selenium from PyPI, pinned, into a cache folder. Uses the gatehouse
# binary of the last debug build (`swift test` makes it). .ci/run calls it. Screenshots
# of the main states go to $SCREENSHOTS (default .build/browser-screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."

selenium_version=4.51.0
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "browser-check: installing chromium and chromium-driver from Debian's packages" >&2
    sudo=""; [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
tools="${TMPDIR:-/tmp}/gatehouse-selenium-$selenium_version"
(
    flock 9
    if ! "$tools/bin/python" -c 'import selenium' 2>/dev/null; then
        rm -rf "$tools"
        python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet --disable-pip-version-check "selenium==$selenium_version" >&2
    fi
) 9>"$tools.lock"

binary="$(swift build --show-bin-path)/gatehouse"
[[ -x "$binary" ]] || { echo "browser-check: $binary is missing; run swift build first" >&2; exit 1; }

SCREENSHOTS="${SCREENSHOTS:-$PWD/.build/browser-screenshots}"
rm -rf "$SCREENSHOTS"
mkdir -p "$SCREENSHOTS"
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
allowed_port=$(free_port)
other_port=$(free_port)

# Two other origins (other ports of 127.0.0.1): one listed in CORS_ORIGINS, one not.
mkdir -p "$work/origin"
printf '<!doctype html><title>another origin</title><p>Another origin.</p>\n' >"$work/origin/cors.html"
for origin_port in "$allowed_port" "$other_port"; do
    python3 -m http.server "$origin_port" --bind 127.0.0.1 --directory "$work/origin" >/dev/null 2>&1 &
    pids+=($!)
done

# An admin, for the check that changes the person's role.
export DATABASE_URL="sqlite://$work/gatehouse.sqlite"
admin_password="browser-check-admin-$RANDOM$RANDOM"
"$binary" migrate >/dev/null
printf '%s' "$admin_password" | "$binary" create-admin --email admin@example.com --name Admin >/dev/null

# Short access tokens, so that the page's renewal before expiry is seen in seconds; a
# login limit per address the checks' own sign-ins stay under (the per-account limit is
# the default, and one check runs into it on purpose).
HOST=127.0.0.1 PORT=$port BCRYPT_COST=4 LOG_LEVEL=info \
    JWT_ACCESS_SECRET=$("$binary" secret) JWT_REFRESH_SECRET=$("$binary" secret) JWT_ACCESS_TTL=20s \
    RATE_LIMIT_LOGIN=100/1m CORS_ORIGINS="http://127.0.0.1:$allowed_port" \
    "$binary" serve 2>"$work/server.log" &
pids+=($!)
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
done
for origin_port in "$allowed_port" "$other_port"; do
    for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$origin_port/cors.html" >/dev/null 2>&1 && break; sleep 0.1; done
done

status=0
GATEHOUSE_URL="http://127.0.0.1:$port" ALLOWED_ORIGIN="http://127.0.0.1:$allowed_port" \
    OTHER_ORIGIN="http://127.0.0.1:$other_port" SCREENSHOTS="$SCREENSHOTS" \
    ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD="$admin_password" \
    "$tools/bin/python" Tests/Browser/account_page.py || status=$?
# Nothing secret in the server's log, at info: no token, no password the checks typed,
# no cookie.
for secret in 'eyJ' 'correct horse' 'passphrase' 'wrong password' 'refreshToken=' "$admin_password"; do
    if grep -qF "$secret" "$work/server.log"; then
        echo "browser-check: the server's log contains '$secret'" >&2
        status=1
    fi
done
if grep -qE '^[^ ]+ (error|critical) ' "$work/server.log"; then
    echo "browser-check: the server logged errors:" >&2
    grep -E '^[^ ]+ (error|critical) ' "$work/server.log" >&2
    status=1
fi
if [[ $status -ne 0 ]]; then
    echo "browser-check: the server's log:" >&2
    tail -n 60 "$work/server.log" >&2
fi
echo "browser-check: screenshots in $SCREENSHOTS"
exit "$status"
