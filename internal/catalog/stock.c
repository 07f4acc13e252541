/* The catalog's stock functions for other modules (catalog.h): the order module takes and
 * returns stock inside its own transaction; the user module counts a seller's listings. */
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "pkg/log/log.h"

static bool args_ok(const char *fn, int quantity, const char *order_id)
{
    if (quantity >= 1 && quantity <= CATALOG_STOCK_MAX && order_id && ids_is_uuid(order_id))
        return true;
    log_error("catalog_misuse", "%s: quantity %d or order id not valid", fn, quantity);
    return false;
}

static void copy(char *dst, size_t n, const char *src)
{
    strncpy(dst, src, n - 1);
    dst[n - 1] = '\0';
}

static void fill_line(const PGresult *res, struct catalog_line *out)
{
    memset(out, 0, sizeof *out);
    copy(out->product_id, sizeof out->product_id, PQgetvalue(res, 0, CATALOG_STOCK_ID));
    copy(out->seller_id, sizeof out->seller_id, PQgetvalue(res, 0, CATALOG_STOCK_SELLER_ID));
    copy(out->title, sizeof out->title, PQgetvalue(res, 0, CATALOG_STOCK_TITLE));
    copy(out->currency, sizeof out->currency, PQgetvalue(res, 0, CATALOG_STOCK_CURRENCY));
    out->unit_price_minor = catalog_col_ll(res, 0, CATALOG_STOCK_PRICE_MINOR);
    out->stock_after = (int)catalog_col_ll(res, 0, CATALOG_STOCK_STOCK);
}

/* After a take matched no row: DB_NOT_FOUND when the product cannot be bought at all,
 * DB_CHECK when it only lacks stock. */
static enum db_status why_not(struct db_conn *c, const char *product_id)
{
    PGresult *probe = NULL;
    enum db_status st = catalog_repo_probe(c, product_id, &probe);
    if (st == DB_OK) {
        const char *status = PQntuples(probe) ? PQgetvalue(probe, 0, 1) : "";
        st = strcmp(status, "active") == 0 || strcmp(status, "sold_out") == 0 ? DB_CHECK
                                                                              : DB_NOT_FOUND;
    }
    PQclear(probe);
    return st;
}

enum db_status catalog_stock_take(struct db_conn *c, const char *product_id, int quantity,
                                  const char *order_id, struct catalog_line *out)
{
    PGresult *res = NULL;
    if (!args_ok("catalog_stock_take", quantity, order_id))
        return DB_ERROR;
    if (!product_id || !ids_is_uuid(product_id))
        return DB_NOT_FOUND;
    enum db_status st = catalog_repo_take(c, product_id, quantity, order_id, &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return why_not(c, product_id);
    }
    fill_line(res, out);
    st = catalog_emit_if_sold_out(c, res);
    PQclear(res);
    return st;
}

enum db_status catalog_stock_return(struct db_conn *c, const char *product_id, int quantity,
                                    const char *order_id)
{
    PGresult *res = NULL;
    if (!args_ok("catalog_stock_return", quantity, order_id))
        return DB_ERROR;
    if (!product_id || !ids_is_uuid(product_id))
        return DB_NOT_FOUND;
    enum db_status st = catalog_repo_return(c, product_id, quantity, order_id, &res);
    if (st == DB_OK && PQntuples(res) == 0) {
        PQclear(res);
        res = NULL;
        st = catalog_repo_probe(c, product_id, &res); /* returned before, or no product */
        if (st == DB_OK && PQntuples(res) == 0)
            st = DB_NOT_FOUND;
    }
    PQclear(res);
    return st;
}

int catalog_seller_active_listings(struct db_conn *c, const char *seller_id, long long *out)
{
    PGresult *res = NULL;
    *out = 0;
    if (!seller_id || !ids_is_uuid(seller_id))
        return 0;
    if (catalog_repo_active_count(c, seller_id, &res) != DB_OK)
        return -1; /* logged by pkg/db */
    *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}
