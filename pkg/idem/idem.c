#include "pkg/idem/idem.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/db/db.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

#define PURGE_BATCH    "1000"
#define CLAIM_ATTEMPTS 3
/* The header's constants as SQL literals (kept in step by the assertions). */
#define TTL_SQL   "interval '86400 seconds'"
#define STALE_SQL "interval '300 seconds'"
_Static_assert(IDEM_TTL_S == 86400, "TTL_SQL must follow IDEM_TTL_S");
_Static_assert(IDEM_STALE_CLAIM_S == 300, "STALE_SQL must follow IDEM_STALE_CLAIM_S");

/* The claim answers a row only when it inserted the key or took over an expired key or a
 * stale unfinished claim; a live key conflicts and answers nothing. */
static const struct db_stmt stmts[] = {
    {"idem_claim",
     "INSERT INTO idempotency_keys AS k (scope, key, request_hash) VALUES ($1, $2, $3) "
     "ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, "
     "status_code = NULL, content_type = NULL, response_body = NULL, created_at = now(), "
     "completed_at = NULL "
     "WHERE k.created_at < now() - " TTL_SQL " "
     "OR (k.completed_at IS NULL AND k.created_at < now() - " STALE_SQL ") "
     "RETURNING 1"},
    {"idem_get",
     "SELECT request_hash, completed_at IS NOT NULL, status_code, content_type, response_body "
     "FROM idempotency_keys WHERE scope = $1 AND key = $2"},
    {"idem_complete",
     "UPDATE idempotency_keys SET status_code = $3, content_type = $4, response_body = $5, "
     "completed_at = now() WHERE scope = $1 AND key = $2 AND completed_at IS NULL"},
    {"idem_release",
     "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND completed_at IS NULL"},
    {"idem_purge",
     "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key "
     "FROM idempotency_keys WHERE created_at < now() - " TTL_SQL " LIMIT " PURGE_BATCH ")"},
};

void idem_init(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

bool idem_key_valid(const char *key)
{
    size_t n = 0;
    for (; key && key[n]; n++)
        if ((unsigned char)key[n] < 0x20 || (unsigned char)key[n] > 0x7e || n >= 255)
            return false;
    return n >= 1;
}

void idem_hash(const char *method, const char *route, const void *body, size_t len,
               char out[IDEM_HASH_LEN])
{
    crypto_hash_sha256_state st;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    /* The NULs keep ("GET", "/ab") and ("GETx", "/b")-style splits apart. */
    crypto_hash_sha256_update(&st, (const unsigned char *)method, strlen(method) + 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)route, strlen(route) + 1);
    if (len)
        crypto_hash_sha256_update(&st, body, len);
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(out, IDEM_HASH_LEN, digest, sizeof digest);
}

void idem_stored_cleanup(struct idem_stored *s)
{
    if (!s)
        return;
    free(s->content_type);
    free(s->body);
    memset(s, 0, sizeof *s);
}

/* Copies row 0 of an idem_get result into *s. */
static void fill_stored(const PGresult *res, struct idem_stored *s)
{
    size_t n = 0;
    unsigned char *raw = NULL;
    s->status = atoi(PQgetvalue(res, 0, 2));
    s->content_type = PQgetisnull(res, 0, 3) ? NULL : xstrdup(PQgetvalue(res, 0, 3));
    if (!PQgetisnull(res, 0, 4))
        raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 4), &n);
    if (!raw && !PQgetisnull(res, 0, 4))
        abort(); /* libpq's only failure is out of memory: the xalloc policy */
    s->body = xmalloc(n);
    if (n)
        memcpy(s->body, raw, n);
    s->len = n;
    PQfreemem(raw);
}

/* The outcome for an existing key, or -1 when the key vanished (released meanwhile). */
static int judge_existing(struct db_conn *c, const char *const params[2], const char *hash,
                          struct idem_stored *replay)
{
    PGresult *res = NULL;
    int outcome = IDEM_UNAVAILABLE;
    if (db_exec(c, "idem_get", 2, params, &res) != DB_OK)
        goto out;
    if (PQntuples(res) == 0)
        outcome = -1;
    else if (strcmp(PQgetvalue(res, 0, 0), hash) != 0)
        outcome = IDEM_MISMATCH;
    else if (PQgetvalue(res, 0, 1)[0] != 't')
        outcome = IDEM_IN_PROGRESS;
    else
        outcome = IDEM_REPLAY;
    if (outcome == IDEM_REPLAY && replay)
        fill_stored(res, replay);
out:
    PQclear(res);
    return outcome;
}

enum idem_outcome idem_begin(const char *scope, const char *key, const char *request_hash,
                             struct idem_stored *replay)
{
    const char *params[3] = {scope, key, request_hash};
    if (replay)
        memset(replay, 0, sizeof *replay);
    struct db_conn *c = db_conn(DB_PRIMARY);
    if (!c)
        return IDEM_UNAVAILABLE;
    if (PQtransactionStatus(db_pg(c)) != PQTRANS_IDLE) {
        log_error("idem_misuse", "idem_begin inside a transaction");
        return IDEM_UNAVAILABLE;
    }
    for (int attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
        PGresult *res = NULL;
        if (db_exec(c, "idem_claim", 3, params, &res) != DB_OK)
            return IDEM_UNAVAILABLE;
        int claimed = PQntuples(res);
        PQclear(res);
        if (claimed)
            return IDEM_PROCEED;
        int outcome = judge_existing(c, params, request_hash, replay);
        if (outcome >= 0)
            return (enum idem_outcome)outcome;
    }
    return IDEM_IN_PROGRESS; /* claimed and released over and over by others: busy */
}

void idem_complete(const char *scope, const char *key, int status, const char *content_type,
                   const void *body, size_t len)
{
    char code[16];
    if (len > INT_MAX) {
        log_error("idem_complete", "response of %zu bytes not stored", len);
        return;
    }
    snprintf(code, sizeof code, "%d", status);
    const char *values[5] = {scope, key, code, content_type, len ? (const char *)body : ""};
    const int lengths[5] = {0, 0, 0, 0, (int)len};
    const int formats[5] = {0, 0, 0, 0, 1};
    struct db_conn *c = db_conn(DB_PRIMARY);
    PGresult *res = NULL;
    enum db_status st = db_exec_params(c, "idem_complete", 5, values, lengths, formats, &res);
    if (st != DB_OK)
        log_warn("idem_complete_failed", "key not completed (%s)", db_last_sqlstate());
    else if (strcmp(PQcmdTuples(res), "1") != 0)
        log_warn("idem_complete_lost", "the claim was no longer ours");
    PQclear(res);
}

void idem_release(const char *scope, const char *key)
{
    const char *params[2] = {scope, key};
    if (db_query(DB_PRIMARY, "idem_release", 2, params, NULL) != DB_OK)
        log_warn("idem_release_failed", "claim kept until stale (%s)", db_last_sqlstate());
}

long long idem_purge_expired(void)
{
    return db_exec_batches("idem_purge", 0, NULL, atoll(PURGE_BATCH));
}
