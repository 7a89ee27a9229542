#!/usr/bin/env bash
# Fills a migrated Gatehouse database with SEED_USERS users (default 1,000,000) and three
# sessions each: two live, one expired for longer than the pruner's retention (so the
# pruner has a million rows to delete). Bulk inserts in the database itself, one
# precomputed cost-4 hash of "secret123" for every user. Emails are userN@seed.example.
#
#   scripts/seed-data.sh sqlite:///path/to/gatehouse.sqlite
#   scripts/seed-data.sh 'postgres://user:pass@127.0.0.1:5432/db?schema=name'
set -euo pipefail
URL="$1"
USERS="${SEED_USERS:-1000000}"
HASH='$2b$04$sbb/sQJJnOLBLSiZz1Nd2ed4MC1pGP.S/usKCzF390VoIKhXHpEju'
NOW="$(date +%s)"
started="$(date +%s.%N)"
case "$URL" in
sqlite://*)
    command -v sqlite3 >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
    FILE="${URL#sqlite://}"
    # Gatehouse stores UUIDs as upper-case text and times as Unix seconds (REAL) in SQLite.
    sqlite3 -bail "$FILE" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS),
r(i, h) AS (SELECT i, hex(randomblob(16)) FROM n)
INSERT INTO gatehouse_users (id, name, email, password_hash, role, token_version, created_at, updated_at)
SELECT substr(h,1,8)||'-'||substr(h,9,4)||'-4'||substr(h,14,3)||'-A'||substr(h,18,3)||'-'||substr(h,21,12),
       'Seed User '||i, 'user'||i||'@seed.example', '$HASH', 'user', 0, $NOW.0, $NOW.0 FROM r;
WITH k(n) AS (VALUES (1), (2), (3)),
r(user_id, n, h) AS (SELECT u.id, k.n, hex(randomblob(16)) FROM gatehouse_users u, k WHERE u.email LIKE '%@seed.example')
INSERT INTO gatehouse_sessions (id, user_id, generation, rotated_at, created_at, last_used_at, expires_at, revoked_at, user_agent, ip)
SELECT substr(h,1,8)||'-'||substr(h,9,4)||'-4'||substr(h,14,3)||'-A'||substr(h,18,3)||'-'||substr(h,21,12), user_id, 0,
       $NOW.0 - 86400 * 10, $NOW.0 - 86400 * 10, $NOW.0 - 86400 * 10,
       CASE n WHEN 3 THEN $NOW.0 - 86400 * 3 ELSE $NOW.0 + 86400 * 7 END, NULL, 'Seed/1.0', '192.0.2.1' FROM r;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
    SIZE="$(stat -c %s "$FILE")"
    ;;
postgres://* | postgresql://*)
    SCHEMA="$(echo "$URL" | sed -nE 's/.*[?&]schema=([A-Za-z0-9_]+).*/\1/p')"
    CONNECT="$(echo "$URL" | sed -E 's/[?&]schema=[A-Za-z0-9_]+//')"
    psql -q -v ON_ERROR_STOP=1 "$CONNECT" <<SQL
SET search_path TO ${SCHEMA:-public};
INSERT INTO gatehouse_users (id, name, email, password_hash, role, token_version, created_at, updated_at)
SELECT gen_random_uuid(), 'Seed User '||i, 'user'||i||'@seed.example', '$HASH', 'user', 0, to_timestamp($NOW), to_timestamp($NOW)
FROM generate_series(1, $USERS) AS i;
INSERT INTO gatehouse_sessions (id, user_id, generation, rotated_at, created_at, last_used_at, expires_at, revoked_at, user_agent, ip)
SELECT gen_random_uuid(), u.id, 0, to_timestamp($NOW - 864000), to_timestamp($NOW - 864000), to_timestamp($NOW - 864000),
       CASE k WHEN 3 THEN to_timestamp($NOW - 259200) ELSE to_timestamp($NOW + 604800) END, NULL, 'Seed/1.0', '192.0.2.1'
FROM gatehouse_users u, generate_series(1, 3) AS k WHERE u.email LIKE '%@seed.example';
ANALYZE gatehouse_users; ANALYZE gatehouse_sessions;
SQL
    SIZE="$(psql -tA "$CONNECT" -c "SELECT pg_total_relation_size('${SCHEMA:-public}.gatehouse_users') + pg_total_relation_size('${SCHEMA:-public}.gatehouse_sessions')")"
    ;;
*) echo "seed-data: unsupported URL" >&2; exit 2 ;;
esac
awk -v s="$started" -v e="$(date +%s.%N)" -v u="$USERS" -v b="$SIZE" \
    'BEGIN { printf "SEED users=%d sessions=%d seconds=%.1f bytes=%d bytes_per_user_with_3_sessions=%.0f\n", u, 3 * u, e - s, b, b / u }'
