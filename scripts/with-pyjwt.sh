#!/usr/bin/env bash
# Runs its arguments with PyJWT and cryptography (EdDSA, ES256, RS256) importable: from
# the system's Python if it has them, otherwise installed once from PyPI into a cache
# folder. The interop tests run their Python through this. Usage:
#   scripts/with-pyjwt.sh python3 -c 'import jwt; print(jwt.__version__)'
set -euo pipefail
version=2.15.1
cache="${TMPDIR:-/tmp}/gatehouse-pyjwt-$version"
if ! python3 -c 'import jwt, cryptography' 2>/dev/null; then
    # One installer at a time: tests run in parallel.
    (
        flock 9
        if ! PYTHONPATH="$cache" python3 -c 'import jwt, cryptography' 2>/dev/null; then
            python3 -m pip install --quiet --disable-pip-version-check --target "$cache" "pyjwt[crypto]==$version" >&2
        fi
    ) 9>"$cache.lock"
    export PYTHONPATH="$cache${PYTHONPATH:+:$PYTHONPATH}"
fi
exec "$@"
