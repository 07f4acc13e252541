#!/usr/bin/env bash
# Restore drill against the running rig (make ha-up): takes a base backup of the current
# leader through the write port with pg_basebackup (WAL streamed along, -X stream), starts
# it as a standalone server on a spare port, and checks that the restored copy has every
# user and every outbox event that the primary had when the backup began. The same steps
# restore production from a backup (docs/operations.md, "Back up and restore").
#
# Usage: infra/ha/restore-drill.sh   (state in var/ha/drill, removed afterwards)
set -euo pipefail
prog=restore-drill.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
eval "$("$repo/infra/ha/rig.sh" env)"
pgbin=/usr/lib/postgresql/15/bin
drill=$HA_DIR/drill port=57499
rm -rf "$drill"
mkdir -p "$drill"
[[ "$HA_RUNNER" == "$(id -un)" ]] || chown "$HA_RUNNER:" "$drill"
as_runner() {
    if [[ "$HA_RUNNER" == "$(id -un)" ]]; then "$@"; else (cd / && runuser -u "$HA_RUNNER" -- "$@"); fi
}
cleanup() {
    as_runner "$pgbin/pg_ctl" -D "$drill/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$drill"
}
trap cleanup EXIT

count() { psql -X -qtA -d "$1" -c "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM outbox_events)"; }
# A row committed just before the backup must be in the copy.
marker=drill-$RANDOM-$$
psql -X -q -v ON_ERROR_STOP=1 -d "$HA_WRITE_URL" -c \
    "CREATE SCHEMA IF NOT EXISTS ha_rig; CREATE TABLE IF NOT EXISTS ha_rig.drill (marker text PRIMARY KEY); INSERT INTO ha_rig.drill VALUES ('$marker')"
before=$(count "$HA_WRITE_URL")
t0=$SECONDS
# The replication user of the rig's Patroni (patroni.yml, authentication.replication).
PGPASSWORD=ha-replication-pass as_runner "$pgbin/pg_basebackup" -h 127.0.0.1 -p 57500 \
    -U replicator -D "$drill/data" -X stream -c fast --no-sync ||
    die "pg_basebackup failed"
# The copy keeps the primary's settings; run it alone on its own port and socket dir.
rm -f "$drill/data/standby.signal" "$drill/data/recovery.signal"
as_runner "$pgbin/pg_ctl" -D "$drill/data" -w -t 60 -l "$drill/pg.log" \
    -o "-p $port -k $drill -c listen_addresses=127.0.0.1 -c synchronous_standby_names= -c hot_standby=on" \
    start >/dev/null || die "the restored copy did not start: $(tail -3 "$drill/pg.log")"
restored_url=${HA_WRITE_URL/:57500\//:$port/}
after=$(count "$restored_url")
read -r u0 e0 <<<"$before"
read -r u1 e1 <<<"$after"
say "backup + restore in $((SECONDS - t0)) s: primary had $u0 users / $e0 events at the start, the restored copy has $u1 / $e1"
((u1 >= u0 && e1 >= e0)) || die "the restored copy lacks rows the primary had before the backup"
[[ "$(psql -X -qtA -d "$restored_url" -c "SELECT count(*) FROM ha_rig.drill WHERE marker = '$marker'")" == 1 ]] ||
    die "the restored copy lacks the row committed just before the backup"
echo "PASS restore drill: a base backup of the leader restores and holds every row ($u1 users, $e1 events)"
