#!/usr/bin/env bash
# Fills the change table of a migrated SQLite file with COUNT revocations made now, each
# of another user's session (the shape of COUNT sign-outs in one access-token window):
#   scripts/bench/seed-revocations.sh PATH COUNT
set -euo pipefail
FILE="$1" COUNT="$2"
[[ "$COUNT" -gt 0 ]] || exit 0
# UUIDs in the form Gatehouse stores them on SQLite (upper-case text).
sqlite3 "$FILE" >/dev/null <<SQL
PRAGMA busy_timeout = 5000;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $COUNT)
INSERT INTO gatehouse_revocations (user_id, kind, session_id, at)
SELECT printf('%s-%s-4%s-A%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
              substr(hex(randomblob(2)), 2), hex(randomblob(6))),
       'session',
       printf('%s-%s-4%s-A%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
              substr(hex(randomblob(2)), 2), hex(randomblob(6))),
       CAST(strftime('%s', 'now') AS INTEGER)
FROM n;
SQL
