/* SQL fragments shared by the catalog's repository files (repo_pg.c, repo_search.c). */
#ifndef HAAT_INTERNAL_CATALOG_SQL_H
#define HAAT_INTERNAL_CATALOG_SQL_H

/* RFC 3339 UTC, second precision. The colons are quoted literals ("HH24":"MI") so that no
 * ":name" appears in the SQL: pgbench (the bench) would take it for a variable. */
#define CATALOG_SQL_TS(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":\"MI\":\"SS\"Z\"')"

/* The product columns, in enum catalog_col order, of products aliased p. */
#define CATALOG_PRODUCT_COLS                                                              \
    "p.id, p.seller_id, p.title, p.description, p.category, p.condition, p.price_minor, " \
    "p.currency, p.stock, p.status, p.city, p.images, p.version, " CATALOG_SQL_TS(        \
        "p.created_at") ", " CATALOG_SQL_TS("p.updated_at") ", p.takedown_reason"

/* The stock columns, in enum catalog_stock_col order (without sold_out_now). */
#define CATALOG_STOCK_COLS "id, seller_id, title, price_minor, currency, stock, status, version"

/* created_at as exact epoch microseconds (the newest-first cursor key) and back. */
#define CATALOG_SQL_EPOCH_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define CATALOG_SQL_FROM_US(param) \
    "(timestamptz 'epoch' + " param "::bigint * interval '1 microsecond')"

#endif
