/* The ledger's statements (tables ledger_accounts, ledger_transfers, ledger_legs). Balances are
 * maintained by the database (trigger ledger_legs_apply) and the zero sum is checked by it at
 * COMMIT (constraint trigger ledger_transfer_balanced): nothing here computes either. */
#include "internal/payment/internal.h"

static const struct db_stmt stmts[] = {
    /* Seller accounts named by the legs are created on first use; the transfer row is written
     * once per id (a retried posting inserts nothing and reports it). */
    {"payment_ledger_transfer",
     "WITH acc AS (INSERT INTO ledger_accounts (id, kind, seller_id) "
     "SELECT a, 'seller_' || split_part(a, ':', 3), split_part(a, ':', 2)::uuid "
     "FROM unnest($5::text[]) a WHERE a LIKE 'seller:%' ON CONFLICT (id) DO NOTHING), "
     "ins AS (INSERT INTO ledger_transfers (id, kind, order_id, payment_id) "
     "VALUES ($1, $2, $3::uuid, $4::uuid) ON CONFLICT (id) DO NOTHING RETURNING id) "
     "SELECT count(*) FROM ins"},
    {"payment_ledger_legs",
     "INSERT INTO ledger_legs (transfer_id, n, account_id, amount_minor) "
     "SELECT $1, l.n, l.account, l.amount FROM unnest($2::text[], $3::bigint[]) "
     "WITH ORDINALITY AS l(account, amount, n)"},
};

/* Result columns of payment_ledger_transfer. */
enum transfer_col { TRANSFER_INSERTED };

void payment_repo_ledger_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

enum db_status payment_repo_transfer_insert(struct db_conn *c, const char *transfer_id,
                                            const char *kind, const char *order_id,
                                            const char *payment_id, const char *accounts_array,
                                            bool *fresh)
{
    PGresult *res = NULL;
    const char *p[] = {transfer_id, kind, order_id, payment_id, accounts_array};
    enum db_status st = db_exec(c, "payment_ledger_transfer", DB_PARAMS(p), &res);
    *fresh = st == DB_OK && db_col_ll(res, 0, TRANSFER_INSERTED) == 1;
    PQclear(res);
    return st;
}

enum db_status payment_repo_legs_insert(struct db_conn *c, const char *transfer_id,
                                        const char *accounts_array, const char *amounts_array)
{
    const char *p[] = {transfer_id, accounts_array, amounts_array};
    return db_exec(c, "payment_ledger_legs", DB_PARAMS(p), NULL);
}
