#!/usr/bin/env bash
# Keeps the OpenAPI document true against a live server (SPEC.md §3.8): validates
# GET /api/v1/openapi.json with openapi-spec-validator, then runs schemathesis on every
# operation with the server-error and response-conformance checks (status code, content
# type, headers, body schema). Any 5xx or non-conforming answer fails the run.
#
# Uses the gatehouse binary of the last debug build (`swift test` or `swift build` makes
# it); the Python tools are installed once, pinned, into a cache folder. .ci/run calls it.
#   scripts/openapi-check.sh [--max-examples N]
set -euo pipefail
cd "$(dirname "$0")/.."
max_examples=${1:-}
[[ "$max_examples" == "--max-examples" ]] && max_examples=$2 || max_examples=25

schemathesis_version=4.32.5
validator_version=0.9.0
tools="${TMPDIR:-/tmp}/gatehouse-openapi-tools-$schemathesis_version-$validator_version"
(
    flock 9
    if [[ ! -x "$tools/bin/schemathesis" || ! -x "$tools/bin/openapi-spec-validator" ]]; then
        rm -rf "$tools"
        python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet --disable-pip-version-check \
            "schemathesis==$schemathesis_version" "openapi-spec-validator==$validator_version" >&2
    fi
) 9>"$tools.lock"

binary="$(swift build --show-bin-path)/gatehouse"
[[ -x "$binary" ]] || { echo "openapi-check: $binary is missing; run swift build first" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Default limits, so that schemathesis meets the 429s too.
export DATABASE_URL="sqlite://$work/gatehouse.sqlite" HOST=127.0.0.1 PORT=$port BCRYPT_COST=4 LOG_LEVEL=warning \
    JWT_ACCESS_SECRET=$("$binary" secret) JWT_REFRESH_SECRET=$("$binary" secret)
"$binary" migrate >/dev/null
# One admin per schemathesis run (six), so that no run can remove the last admin and each
# run's damage (schemathesis finds the caller's own id and deletes, demotes or signs it
# out) stays in its own account.
accounts=(admin1 admin2 admin3 admin4 admin5 admin6)
for admin in "${accounts[@]}"; do
    printf 'schemathesis-admin-password' | "$binary" create-admin --email "$admin@example.com" --name Admin >/dev/null
done
"$binary" serve 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "$base/health" >/dev/null 2>&1 && break
    sleep 0.1
done

login() { # login COOKIE-JAR [ACCOUNT]
    curl -fsS -c "$1" -H 'Content-Type: application/json' \
        -d "{\"email\":\"${2:-admin1}@example.com\",\"password\":\"schemathesis-admin-password\"}" "$base/api/v1/auth/login" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["accessToken"])'
}
# Another session's refresh cookie, so that refresh-token reuse detection revokes that
# session only, not the one whose access token the runs use.
login "$work/refresh.cookies" >/dev/null
refresh=$(awk '$6 == "refreshToken" { print $7 }' "$work/refresh.cookies")
# The runs' access tokens, all taken now: schemathesis soon uses up the login limit of
# this address, and failed password changes lock the first account's sign-in.
tokens=()
for account in "${accounts[@]}"; do tokens+=("$(login "$work/run.cookies" "$account")"); done
for token in "${tokens[@]}"; do [[ -n "$token" ]] || { echo "openapi-check: could not sign in" >&2; exit 1; }; done

curl -fsS "$base/api/v1/openapi.json" -o "$work/openapi.json"
"$tools/bin/openapi-spec-validator" "$work/openapi.json"

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
run() {
    local token=${tokens[0]}
    tokens=("${tokens[@]:1}")
    # In the scratch folder: schemathesis and Hypothesis keep what they learn in the
    # working directory, and every check starts from nothing.
    (cd "$work" && "$tools/bin/schemathesis" run "$base/api/v1/openapi.json" --url "$base" --checks "$checks" \
        --workers 1 --max-examples "$max_examples" --phases examples,coverage,fuzzing \
        --suppress-health-check all --no-color \
        -H "Authorization: Bearer $token" -H "Cookie: refreshToken=$refresh" "$@")
}
# Each run has its own admin. Operations that end the caller's rights (revoking a
# session, a role change, deleting a user, an admin's logout of a user, logout) run
# each on its own after the rest, so that they cannot starve the others of a valid token.
destructive=(revokeSession adminSetRole adminDeleteUser adminLogoutUser logout)
run $(printf -- '--exclude-operation-id %s ' "${destructive[@]}")
for operation in "${destructive[@]}"; do run --include-operation-id "$operation"; done
if grep -qE '^[^ ]+ (error|critical) ' "$work/server.log"; then
    echo "openapi-check: the server logged errors:" >&2
    cat "$work/server.log" >&2
    exit 1
fi
echo "openapi-check: document valid; schemathesis found no 5xx and no non-conforming answer"
