/* `haat admin seal-accounts` (operator CLI, run once after migration 0016): seals every
 * seller's bank account number still stored in the clear under HAAT_DATA_KEY, keeps its last
 * 4 digits and empties the plain column, a batch of USER_SEAL_BATCH rows per transaction, each
 * row with its audit row (actor "cli", action "seller.seal_account", target the seller; no
 * number in it). Prints "haat: sealed N bank account number(s)". Idempotent: a second run
 * seals nothing. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/audit/audit.h"
#include "pkg/log/log.h"

struct seal_ctx {
    int done;  /* sealed so far */
    int batch; /* sealed by the last transaction */
};

/* Seals one number and records it; the plain number is wiped by the caller. */
static enum db_status seal_one(struct db_conn *c, const char *id, const char *number)
{
    size_t n = strlen(number);
    char last4[5] = "";
    if (n >= 4)
        memcpy(last4, number + n - 4, 5);
    char *sealed = user_seal(number);
    if (!sealed)
        return DB_ERROR;
    enum db_status st = user_repo_seal_store(c, id, sealed, last4);
    free(sealed);
    json_t *after = json_pack("{s:s,s:s}", "bank_account", "sealed", "last4", last4);
    const struct audit_entry e = {
        .actor_id = AUDIT_ACTOR_CLI,
        .action = "seller.seal_account",
        .target_kind = "user",
        .target_id = id,
        .after = after,
    };
    if (st == DB_OK)
        st = audit_record(c, &e);
    json_decref(after);
    return st;
}

static enum db_status seal_txn(struct db_conn *c, void *arg)
{
    struct seal_ctx *x = arg;
    char ids[USER_SEAL_BATCH][IDS_UUID_LEN];
    char *numbers[USER_SEAL_BATCH] = {0};
    int n = 0;
    enum db_status st = user_repo_seal_pick(c, ids, numbers, &n);
    for (int i = 0; i < n; i++) {
        if (st == DB_OK)
            st = seal_one(c, ids[i], numbers[i]);
        sodium_memzero(numbers[i], strlen(numbers[i]));
        free(numbers[i]);
    }
    x->batch = st == DB_OK ? n : 0;
    return st;
}

int user_seal_accounts(const struct cfg *c)
{
    if (db_init(c->database_url, c->database_read_url) != 0)
        return 1;
    user_init(c);
    audit_init();
    struct seal_ctx x = {0};
    enum db_status st = DB_OK;
    do {
        st = db_txn(DB_PRIMARY, seal_txn, &x);
        x.done += st == DB_OK ? x.batch : 0;
    } while (st == DB_OK && x.batch == USER_SEAL_BATCH);
    db_thread_cleanup();
    if (st != DB_OK) {
        fprintf(stderr, "haat: admin seal-accounts: database error (%s); %d sealed before it\n",
                db_last_sqlstate(), x.done);
        return 1;
    }
    log_info("user_accounts_sealed", "%d bank account number(s) sealed", x.done);
    printf("haat: sealed %d bank account number(s)\n", x.done);
    return 0;
}
