#!/usr/bin/env bash
# Runs a command (default: `swift test`) against throwaway PostgreSQL clusters:
#   - "main", for the whole suite (GATEHOUSE_TEST_DATABASE_URL; every test gets its own schema);
#   - "outage", which the outage test stops and starts (GATEHOUSE_TEST_OUTAGE_URL and
#     GATEHOUSE_TEST_OUTAGE_CONTROL).
# Installs PostgreSQL from Debian's packages if it is missing, runs the servers on
# 127.0.0.1 as an unprivileged user, and removes everything when the command ends.
set -euo pipefail

find_pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

PG_BIN="$(find_pg_bin)"
if [[ -z "$PG_BIN" || ! -x "$PG_BIN/initdb" ]]; then
    echo "test-postgres: installing PostgreSQL from Debian's packages" >&2
    SUDO=""
    [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    PG_BIN="$(find_pg_bin)"
fi

# PostgreSQL refuses to run as root: use the `postgres` account the package creates.
if [[ "$(id -u)" -eq 0 ]]; then
    AS_PG=(runuser -u postgres --)
else
    AS_PG=()
fi

BASE="$(mktemp -d /tmp/gatehouse-pg.XXXXXX)"
chmod 755 "$BASE"
[[ "$(id -u)" -eq 0 ]] && chown postgres "$BASE"
PASSWORD="gatehouse-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$PASSWORD" > "$BASE/pwfile"
[[ "$(id -u)" -eq 0 ]] && chown postgres "$BASE/pwfile"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cleanup() {
    for cluster in main outage; do
        if [[ -f "$BASE/$cluster/postmaster.pid" ]]; then
            "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$BASE/$cluster" -m immediate stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$BASE"
}
trap cleanup EXIT

start_cluster() { # name port
    local name="$1" port="$2"
    "${AS_PG[@]}" "$PG_BIN/initdb" -D "$BASE/$name" -U gatehouse --pwfile="$BASE/pwfile" \
        --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$BASE/$name-initdb.log" 2>&1 \
        || { cat "$BASE/$name-initdb.log" >&2; exit 1; }
    # Durability off: this cluster lives for one test run.
    cat >>"$BASE/$name/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$BASE'
max_connections = 400
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$BASE/$name" -l "$BASE/$name.log" -w -t 60 start >/dev/null \
        || { cat "$BASE/$name.log" >&2; exit 1; }
    PGPASSWORD="$PASSWORD" psql -h 127.0.0.1 -p "$port" -U gatehouse -d postgres -qAt \
        -c "CREATE DATABASE gatehouse_test" >/dev/null
}

MAIN_PORT="$(free_port)"
start_cluster main "$MAIN_PORT"
OUTAGE_PORT="$(free_port)"
start_cluster outage "$OUTAGE_PORT"

# The outage test calls this with `stop` or `start`.
cat >"$BASE/outage-control" <<CTL
#!/usr/bin/env bash
set -e
case "\$1" in
    stop) ${AS_PG[*]} "$PG_BIN/pg_ctl" -D "$BASE/outage" -m fast -w stop >/dev/null ;;
    start) ${AS_PG[*]} "$PG_BIN/pg_ctl" -D "$BASE/outage" -l "$BASE/outage.log" -w -t 60 start >/dev/null ;;
    *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CTL
chmod 755 "$BASE/outage-control"

export GATEHOUSE_TEST_DATABASE_URL="postgres://gatehouse:$PASSWORD@127.0.0.1:$MAIN_PORT/gatehouse_test?sslmode=disable"
export GATEHOUSE_TEST_OUTAGE_URL="postgres://gatehouse:$PASSWORD@127.0.0.1:$OUTAGE_PORT/gatehouse_test?sslmode=disable"
export GATEHOUSE_TEST_OUTAGE_CONTROL="$BASE/outage-control"
export GATEHOUSE_TEST_POSTGRES_LOGS="$BASE"
echo "test-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$MAIN_PORT (outage cluster :$OUTAGE_PORT)" >&2

if [[ $# -eq 0 ]]; then
    set -- swift test
fi
"$@"
