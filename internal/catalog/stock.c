/* The catalog's stock functions for other modules (catalog.h): the order module takes and
 * returns stock inside its own transaction; the user module counts a seller's listings. */
#include <stdio.h>
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

static void fill_line(const struct catalog_stock_row *row, struct catalog_line *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->product_id, sizeof out->product_id, "%s", row->id);
    snprintf(out->seller_id, sizeof out->seller_id, "%s", row->seller_id);
    snprintf(out->title, sizeof out->title, "%s", row->title);
    snprintf(out->currency, sizeof out->currency, "%s", row->currency);
    out->unit_price_minor = row->price_minor;
    out->stock_after = (int)row->stock;
}

/* After a take matched no row: DB_NOT_FOUND when the product cannot be bought at all,
 * DB_CHECK when it only lacks stock. */
static enum db_status why_not(struct db_conn *c, const char *product_id)
{
    struct catalog_probe probe;
    enum db_status st = catalog_repo_probe(c, product_id, &probe);
    if (st != DB_OK)
        return st;
    bool for_sale =
        probe.found && (probe.status == CATALOG_ACTIVE || probe.status == CATALOG_SOLD_OUT);
    return for_sale ? DB_CHECK : DB_NOT_FOUND;
}

enum db_status catalog_stock_take(struct db_conn *c, const char *product_id, int quantity,
                                  const char *order_id, struct catalog_line *out)
{
    struct catalog_stock_row row;
    if (!args_ok("catalog_stock_take", quantity, order_id))
        return DB_ERROR;
    if (!product_id || !ids_is_uuid(product_id))
        return DB_NOT_FOUND;
    enum db_status st = catalog_repo_take(c, product_id, quantity, order_id, &row);
    if (st == DB_NOT_FOUND)
        return why_not(c, product_id);
    if (st != DB_OK)
        return st;
    fill_line(&row, out);
    return catalog_emit_if_sold_out(c, &row);
}

enum db_status catalog_stock_return(struct db_conn *c, const char *product_id, int quantity,
                                    const char *order_id)
{
    if (!args_ok("catalog_stock_return", quantity, order_id))
        return DB_ERROR;
    if (!product_id || !ids_is_uuid(product_id))
        return DB_NOT_FOUND;
    enum db_status st = catalog_repo_return(c, product_id, quantity, order_id);
    if (st != DB_NOT_FOUND)
        return st;
    struct catalog_probe probe; /* returned before (DB_OK), or no product */
    st = catalog_repo_probe(c, product_id, &probe);
    if (st == DB_OK && !probe.found)
        st = DB_NOT_FOUND;
    return st;
}

enum db_status catalog_product_exists(struct db_conn *c, const char *product_id, bool *exists)
{
    struct catalog_probe probe;
    *exists = false;
    if (!product_id || !ids_is_uuid(product_id))
        return DB_OK;
    enum db_status st = catalog_repo_probe(c, product_id, &probe);
    *exists = st == DB_OK && probe.found;
    return st;
}

int catalog_seller_active_listings(struct db_conn *c, const char *seller_id, long long *out)
{
    *out = 0;
    if (!seller_id || !ids_is_uuid(seller_id))
        return 0;
    if (!c || catalog_repo_active_count(c, seller_id, out) != DB_OK)
        return -1; /* a failed statement is logged by pkg/db */
    return 0;
}

int catalog_product_briefs(struct db_conn *c, struct catalog_brief *out, size_t n)
{
    if (n == 0)
        return 0;
    if (!c || catalog_repo_briefs(c, out, n) != DB_OK)
        return -1;
    return 0;
}
