#include "pkg/idem/idem.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/db/db.h"
#include "pkg/ids/ids.h"
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
    {"idem_claim", "INSERT INTO idempotency_keys AS k (scope, key, request_hash, claim_id) "
                   "VALUES ($1, $2, $3, $4::uuid) "
                   "ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, "
                   "claim_id = EXCLUDED.claim_id, status_code = NULL, content_type = NULL, "
                   "response_body = NULL, location = NULL, etag = NULL, created_at = now(), "
                   "completed_at = NULL "
                   "WHERE k.created_at < now() - " TTL_SQL " "
                   "OR (k.completed_at IS NULL AND k.created_at < now() - " STALE_SQL ") "
                   "RETURNING 1"},
    {"idem_get",
     "SELECT request_hash, completed_at IS NOT NULL, status_code, content_type, response_body, "
     "location, etag FROM idempotency_keys WHERE scope = $1 AND key = $2"},
    {"idem_complete",
     "UPDATE idempotency_keys SET status_code = $4, content_type = $5, response_body = $6, "
     "location = $7, etag = $8, completed_at = now() "
     "WHERE scope = $1 AND key = $2 AND claim_id = $3::uuid AND completed_at IS NULL"},
    {"idem_release",
     "DELETE FROM idempotency_keys "
     "WHERE scope = $1 AND key = $2 AND claim_id = $3::uuid AND completed_at IS NULL"},
    {"idem_purge",
     "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key "
     "FROM idempotency_keys WHERE created_at < now() - " TTL_SQL " LIMIT " PURGE_BATCH ")"},
};

/* Columns of idem_get. */
enum {
    GET_HASH,
    GET_DONE,
    GET_STATUS,
    GET_CONTENT_TYPE,
    GET_BODY,
    GET_LOCATION,
    GET_ETAG,
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
    free(s->location);
    free(s->etag);
    memset(s, 0, sizeof *s);
}

/* Copies row 0 of an idem_get result into *s. */
static void fill_stored(const PGresult *res, struct idem_stored *s)
{
    size_t n = 0;
    unsigned char *raw = NULL;
    s->status = (int)db_col_ll(res, 0, GET_STATUS);
    s->content_type = db_col_strdup(res, 0, GET_CONTENT_TYPE);
    s->location = db_col_strdup(res, 0, GET_LOCATION);
    s->etag = db_col_strdup(res, 0, GET_ETAG);
    if (!db_col_is_null(res, 0, GET_BODY)) {
        raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, GET_BODY), &n);
        if (!raw)
            abort(); /* libpq's only failure is out of memory: the xalloc policy */
    }
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
    else if (strcmp(db_col_str(res, 0, GET_HASH), hash) != 0)
        outcome = IDEM_MISMATCH;
    else if (!db_col_bool(res, 0, GET_DONE))
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
                             char claim[IDEM_CLAIM_LEN], struct idem_stored *replay)
{
    ids_uuid7(claim);
    const char *params[] = {scope, key, request_hash, claim};
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
        if (db_exec(c, "idem_claim", DB_PARAMS(params), &res) != DB_OK)
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

enum db_status idem_complete_txn(struct db_conn *c, const char *scope, const char *key,
                                 const char *claim, const struct idem_response *r)
{
    char code[16];
    if (r->len > INT_MAX) {
        log_error("idem_complete", "response of %zu bytes not stored", r->len);
        return DB_ERROR;
    }
    snprintf(code, sizeof code, "%d", r->status);
    const char *values[] = {
        scope,       key,    claim, code, r->content_type, r->len ? (const char *)r->body : "",
        r->location, r->etag};
    const int lengths[] = {0, 0, 0, 0, 0, (int)r->len, 0, 0};
    const int formats[] = {0, 0, 0, 0, 0, 1, 0, 0};
    PGresult *res = NULL;
    enum db_status st =
        db_exec_params(c, "idem_complete", DB_NPARAMS(values), values, lengths, formats, &res);
    if (st == DB_OK && strcmp(PQcmdTuples(res), "1") != 0) {
        log_error("idem_claim_lost", "the key was taken over: the command is rolled back");
        st = DB_NOT_FOUND;
    }
    PQclear(res);
    return st;
}

void idem_release(const char *scope, const char *key, const char *claim)
{
    const char *params[] = {scope, key, claim};
    if (db_query(DB_PRIMARY, "idem_release", DB_PARAMS(params), NULL) != DB_OK)
        log_warn("idem_release_failed", "claim kept until stale (%s)", db_last_sqlstate());
}

long long idem_purge_expired(void)
{
    return db_exec_batches("idem_purge", 0, NULL, atoll(PURGE_BATCH));
}
