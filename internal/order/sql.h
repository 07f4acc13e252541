/* SQL fragments shared by the order module's repository files. */
#ifndef HAAT_INTERNAL_ORDER_SQL_H
#define HAAT_INTERNAL_ORDER_SQL_H

/* RFC 3339 UTC, second precision (NULL stays NULL). The colons are quoted literals so that no
 * ":name" appears in the SQL (pgbench, in the bench, would take it for a variable). */
#define ORDER_SQL_TS(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":\"MI\":\"SS\"Z\"')"

/* created_at as exact epoch microseconds (the newest-first cursor key) and back. */
#define ORDER_SQL_EPOCH_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define ORDER_SQL_FROM_US(param) \
    "(timestamptz 'epoch' + " param "::bigint * interval '1 microsecond')"

#define ORDER_SQL_MAX_UUID "ffffffff-ffff-ffff-ffff-ffffffffffff"
#define ORDER_SQL_MIN_UUID "00000000-0000-0000-0000-000000000000"

#endif
