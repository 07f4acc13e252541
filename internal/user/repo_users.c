/* SQL for users and sellers (tables users, sellers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The columns of every user read (USER_COLS), then the hash of the user_auth_* reads. */
enum user_col {
    UCOL_ID,
    UCOL_NAME,
    UCOL_EMAIL,
    UCOL_PHONE,
    UCOL_EMAIL_VERIFIED,
    UCOL_PHONE_VERIFIED,
    UCOL_IS_ADMIN,
    UCOL_IS_SELLER,
    UCOL_SUSPENDED,
    UCOL_CREATED_AT,
    UCOL_PASSWORD_HASH,
};
/* The columns of user_contact, user_seller_public, user_seller_payout, user_suspended_recent. */
enum contact_col {
    CONTACT_EMAIL,
    CONTACT_PHONE,
    CONTACT_NAME,
    CONTACT_EMAIL_VERIFIED,
    CONTACT_PHONE_VERIFIED,
};
enum grant_col { GRANT_ID, GRANT_WAS_ADMIN, GRANT_IS_SELLER };
enum public_col { PUBLIC_DISPLAY_NAME, PUBLIC_JOINED_AT };
enum payout_col {
    PAYOUT_METHOD,
    PAYOUT_UPI_VPA,
    PAYOUT_ACCOUNT_NAME,
    PAYOUT_ACCOUNT_NUMBER,
    PAYOUT_IFSC,
    PAYOUT_SEALED,
};
enum suspended_col { SUSPENDED_ID, SUSPENDED_AT };
enum name_col { NAME_ID, NAME_DISPLAY };

/* SQL reads better laid out by hand. */
/* clang-format off */
/* In the order of enum user_col. */
#define USER_COLS                                                                      \
    "u.id, u.name, u.email, u.phone, u.email_verified_at IS NOT NULL, "                \
    "u.phone_verified_at IS NOT NULL, u.is_admin, "                                    \
    "EXISTS (SELECT 1 FROM sellers s WHERE s.user_id = u.id), "                        \
    "u.suspended_at IS NOT NULL, " TS("u.created_at")

#define BY_EMAIL                                                                       \
    "ORDER BY u.email_verified_at IS NOT NULL DESC, u.phone_verified_at IS NOT NULL DESC, " \
    "u.created_at DESC LIMIT 1"
#define BY_PHONE                                                                       \
    "ORDER BY u.phone_verified_at IS NOT NULL DESC, u.email_verified_at IS NOT NULL DESC, " \
    "u.created_at DESC LIMIT 1"

static const struct db_stmt stmts[] = {
    /* The operators' search (GET /v1/admin/users): $1 a piece of the email, phone or name
     * (NULL: any; compared as text, so % and _ are plain characters), $2 'active' |
     * 'suspended' (NULL: any), $3 key (-1: first page), $4 id, $5 limit; newest first. */
    {"user_admin_search",
     "SELECT " USER_COLS ", (extract(epoch FROM u.created_at) * 1000000)::bigint FROM users u "
     "WHERE ($1::text IS NULL OR strpos(lower(u.email), lower($1)) > 0 "
     "OR strpos(u.phone, $1) > 0 OR strpos(lower(u.name), lower($1)) > 0) "
     "AND ($2::text IS NULL OR ($2 = 'suspended') = (u.suspended_at IS NOT NULL)) "
     "AND ($3::bigint < 0 OR (u.created_at, u.id) < "
     "(timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::uuid)) "
     "ORDER BY u.created_at DESC, u.id DESC LIMIT $5::int"},
    {"user_get_by_id", "SELECT " USER_COLS " FROM users u WHERE u.id = $1::uuid"},
    {"user_get_by_id_lock",
     "SELECT " USER_COLS " FROM users u WHERE u.id = $1::uuid FOR UPDATE"},
    /* An address may be claimed by several accounts until one verifies it (0018): the
     * account that verified it, else one that verified its other address, else the newest
     * claim. */
    {"user_get_by_email", "SELECT " USER_COLS " FROM users u WHERE u.email = $1 " BY_EMAIL},
    {"user_get_by_phone", "SELECT " USER_COLS " FROM users u WHERE u.phone = $1 " BY_PHONE},
    {"user_auth_by_email",
     "SELECT " USER_COLS ", u.password_hash FROM users u WHERE u.email = $1 " BY_EMAIL},
    {"user_auth_by_phone",
     "SELECT " USER_COLS ", u.password_hash FROM users u WHERE u.phone = $1 " BY_PHONE},
    /* Only a verified claim makes an address taken: an unverified one never blocks a signup. */
    {"user_exists",
     "SELECT 1 FROM users WHERE (email = $1 AND email_verified_at IS NOT NULL) "
     "OR (phone = $2 AND phone_verified_at IS NOT NULL) LIMIT 1"},
    {"user_insert",
     "INSERT INTO users (id, name, email, phone, password_hash) "
     "VALUES ($1::uuid, $2, $3, $4, $5) RETURNING " TS("created_at")},
    /* Whoever verifies an address first owns it: the other accounts' unverified claims on it
     * go, then it is verified for $1 — if it is still $1's address ($2). A verified claim of
     * another account makes the UPDATE a unique violation (DB_CONFLICT). */
    {"user_drop_phone_claims",
     "UPDATE users SET phone = NULL, updated_at = now() WHERE phone = $2 AND id <> $1::uuid "
     "AND phone_verified_at IS NULL"},
    {"user_drop_email_claims",
     "UPDATE users SET email = NULL, updated_at = now() WHERE email = $2 AND id <> $1::uuid "
     "AND email_verified_at IS NULL"},
    {"user_set_phone_verified",
     "UPDATE users SET phone_verified_at = COALESCE(phone_verified_at, now()), "
     "updated_at = now() WHERE id = $1::uuid AND phone = $2"},
    {"user_set_email_verified",
     "UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()), "
     "updated_at = now() WHERE id = $1::uuid AND email = $2"},
    /* Accounts nobody verified anything of, 7 days on (housekeeping), in batches. */
    {"user_purge_unverified",
     "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE email_verified_at IS NULL "
     "AND phone_verified_at IS NULL AND created_at < now() - interval '"
     DB_STR(USER_UNVERIFIED_TTL_DAYS) " days' LIMIT 1000)"},
    {"user_set_name", "UPDATE users SET name = $2, updated_at = now() WHERE id = $1::uuid"},
    {"user_set_password",
     "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() "
     "WHERE id = $1::uuid"},
    {"user_grant_admin",
     "WITH old AS (SELECT id, is_admin FROM users u WHERE email = $1 " BY_EMAIL " FOR UPDATE) "
     "UPDATE users u SET is_admin = true, updated_at = now() FROM old WHERE u.id = old.id "
     "RETURNING u.id::text, old.is_admin, "
     "EXISTS (SELECT 1 FROM sellers s WHERE s.user_id = u.id)"},
    {"user_contact",
     "SELECT email, phone, name, email_verified_at IS NOT NULL, phone_verified_at IS NOT NULL "
     "FROM users WHERE id = $1::uuid"},
    /* user_display_names: the seller profile's name when there is one, else the user's. */
    {"user_display_names",
     "SELECT u.id, COALESCE(s.display_name, u.name) FROM users u "
     "LEFT JOIN sellers s ON s.user_id = u.id WHERE u.id = ANY ($1::uuid[])"},
    {"user_seller_insert",
     "INSERT INTO sellers (user_id, display_name, payout_method, upi_vpa, bank_account_name, "
     "bank_account_sealed, bank_account_last4, bank_ifsc) "
     "VALUES ($1::uuid, $2, $3, $4, $5, $6::bytea, $7, $8) "
     "ON CONFLICT (user_id) DO NOTHING RETURNING " TS("created_at")},
    {"user_seller_public",
     "SELECT s.display_name, " TS("s.created_at") " FROM sellers s "
     "JOIN users u ON u.id = s.user_id WHERE s.user_id = $1::uuid AND u.suspended_at IS NULL"},
    /* The auth hook's suspension list (auth_cache.c), every USER_SUSPENDED_POLL_MS on every
     * instance: a range scan of users_suspended_idx (0007), which holds suspended users only. */
    {"user_suspended_recent",
     "SELECT id::text, floor(extract(epoch FROM suspended_at))::bigint FROM users "
     "WHERE suspended_at > now() - interval '" DB_STR(USER_SUSPENDED_WINDOW_S) " seconds'"},
    {"user_seller_payout",
     "SELECT payout_method, upi_vpa, bank_account_name, bank_account_number, bank_ifsc, "
     "bank_account_sealed FROM sellers WHERE user_id = $1::uuid"},
    /* `haat admin seal-accounts`: the rows still holding a plain number, a batch at a time. */
    {"user_seal_pick",
     "SELECT user_id, bank_account_number FROM sellers WHERE bank_account_number IS NOT NULL "
     "ORDER BY user_id LIMIT $1::int FOR UPDATE SKIP LOCKED"},
    {"user_seal_store",
     "UPDATE sellers SET bank_account_sealed = $2::bytea, bank_account_last4 = $3, "
     "bank_account_number = NULL, updated_at = now() WHERE user_id = $1::uuid"},
};
/* clang-format on */

void user_repo_register_users(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

static void row_to_user(const PGresult *res, int i, struct user_rec *u)
{
    db_col_copy(res, i, UCOL_ID, u->id, sizeof u->id);
    u->name = db_col_strdup(res, i, UCOL_NAME);
    u->email = db_col_strdup(res, i, UCOL_EMAIL);
    u->phone = db_col_strdup(res, i, UCOL_PHONE);
    u->email_verified = db_col_bool(res, i, UCOL_EMAIL_VERIFIED);
    u->phone_verified = db_col_bool(res, i, UCOL_PHONE_VERIFIED);
    u->is_admin = db_col_bool(res, i, UCOL_IS_ADMIN);
    u->is_seller = db_col_bool(res, i, UCOL_IS_SELLER);
    u->suspended = db_col_bool(res, i, UCOL_SUSPENDED);
    db_col_copy(res, i, UCOL_CREATED_AT, u->created_at, sizeof u->created_at);
}

/* Runs stmt with one parameter and reads one user. */
static enum db_status fetch_user(struct db_conn *c, const char *stmt, const char *value,
                                 struct user_rec *out)
{
    PGresult *res = NULL;
    const char *p[] = {value};
    memset(out, 0, sizeof *out);
    enum db_status st = user_repo_row(c, stmt, DB_PARAMS(p), &res);
    if (st == DB_OK) {
        row_to_user(res, 0, out);
        out->password_hash =
            PQnfields(res) > UCOL_PASSWORD_HASH ? db_col_strdup(res, 0, UCOL_PASSWORD_HASH) : NULL;
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_get(struct db_conn *c, enum user_key key, const char *value, bool lock,
                             struct user_rec *out)
{
    const char *stmt = key == USER_BY_EMAIL   ? "user_get_by_email"
                       : key == USER_BY_PHONE ? "user_get_by_phone"
                       : lock                 ? "user_get_by_id_lock"
                                              : "user_get_by_id";
    if (key == USER_BY_ID && !ids_is_uuid(value)) {
        memset(out, 0, sizeof *out);
        return DB_NOT_FOUND;
    }
    return fetch_user(c, stmt, value, out);
}

enum db_status user_repo_auth(struct db_conn *c, enum user_key key, const char *value,
                              struct user_rec *out)
{
    return fetch_user(c, key == USER_BY_PHONE ? "user_auth_by_phone" : "user_auth_by_email", value,
                      out);
}

enum db_status user_repo_exists(struct db_conn *c, const char *email, const char *phone)
{
    PGresult *res = NULL;
    const char *p[] = {email, phone};
    enum db_status st = user_repo_row(c, "user_exists", DB_PARAMS(p), &res);
    PQclear(res);
    return st;
}

enum db_status user_repo_insert(struct db_conn *c, struct user_rec *u, const char *hash)
{
    PGresult *res = NULL;
    const char *p[] = {u->id, u->name, u->email, u->phone, hash};
    enum db_status st = db_exec(c, "user_insert", DB_PARAMS(p), &res);
    if (st == DB_OK)
        db_col_copy(res, 0, 0, u->created_at, sizeof u->created_at);
    PQclear(res);
    return st;
}

enum db_status user_repo_set_verified(struct db_conn *c, const char *id, const char *channel,
                                      const char *dest)
{
    const char *p[] = {id, dest};
    bool sms = strcmp(channel, "sms") == 0;
    enum db_status st =
        db_exec(c, sms ? "user_drop_phone_claims" : "user_drop_email_claims", DB_PARAMS(p), NULL);
    if (st != DB_OK)
        return st;
    return user_repo_change(c, sms ? "user_set_phone_verified" : "user_set_email_verified",
                            DB_PARAMS(p));
}

long long user_repo_purge_unverified(void)
{
    return db_exec_batches("user_purge_unverified", 0, NULL, 1000);
}

enum db_status user_repo_set_name(struct db_conn *c, const char *id, const char *name)
{
    const char *p[] = {id, name};
    return user_repo_change(c, "user_set_name", DB_PARAMS(p));
}

enum db_status user_repo_set_password(struct db_conn *c, const char *id, const char *hash)
{
    const char *p[] = {id, hash};
    return user_repo_change(c, "user_set_password", DB_PARAMS(p));
}

enum db_status user_repo_grant_admin(struct db_conn *c, const char *email, struct user_rec *before)
{
    PGresult *res = NULL;
    const char *p[] = {email};
    memset(before, 0, sizeof *before);
    enum db_status st = user_repo_row(c, "user_grant_admin", DB_PARAMS(p), &res);
    if (st == DB_OK) {
        db_col_copy(res, 0, GRANT_ID, before->id, sizeof before->id);
        before->is_admin = db_col_bool(res, 0, GRANT_WAS_ADMIN);
        before->is_seller = db_col_bool(res, 0, GRANT_IS_SELLER);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_seller_insert(struct db_conn *c, const char *user_id,
                                       const struct user_seller_in *in,
                                       char joined_at[CLOCK_RFC3339_LEN])
{
    PGresult *res = NULL;
    char *sealed = in->account_number ? user_seal(in->account_number) : NULL;
    char last4[5] = "";
    size_t n = in->account_number ? strlen(in->account_number) : 0;
    if (n >= 4)
        memcpy(last4, in->account_number + n - 4, 5);
    if (in->account_number && !sealed)
        return DB_ERROR; /* no data key: never stored in the clear */
    const char *p[] = {user_id, in->display_name,      in->method, in->upi_vpa, in->account_name,
                       sealed,  sealed ? last4 : NULL, in->ifsc};
    enum db_status st = db_exec(c, "user_seller_insert", DB_PARAMS(p), &res);
    free(sealed);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_CONFLICT; /* ON CONFLICT DO NOTHING: already a seller */
    if (st == DB_OK)
        db_col_copy(res, 0, 0, joined_at, CLOCK_RFC3339_LEN);
    PQclear(res);
    return st;
}

enum db_status user_repo_seller_public(struct db_conn *c, const char *id, char **display_name,
                                       char joined_at[CLOCK_RFC3339_LEN])
{
    PGresult *res = NULL;
    const char *p[] = {id};
    *display_name = NULL;
    if (!ids_is_uuid(id))
        return DB_NOT_FOUND;
    enum db_status st = user_repo_row(c, "user_seller_public", DB_PARAMS(p), &res);
    if (st == DB_OK) {
        *display_name = db_col_strdup(res, 0, PUBLIC_DISPLAY_NAME);
        db_col_copy(res, 0, PUBLIC_JOINED_AT, joined_at, CLOCK_RFC3339_LEN);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_seller_payout(struct db_conn *c, const char *id, struct user_payout *out)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    memset(out, 0, sizeof *out);
    if (!ids_is_uuid(id))
        return DB_NOT_FOUND;
    enum db_status st = user_repo_row(c, "user_seller_payout", DB_PARAMS(p), &res);
    if (st == DB_OK) {
        out->method = db_col_strdup(res, 0, PAYOUT_METHOD);
        out->upi_vpa = db_col_strdup(res, 0, PAYOUT_UPI_VPA);
        out->account_name = db_col_strdup(res, 0, PAYOUT_ACCOUNT_NAME);
        out->account_number =
            db_col_is_null(res, 0, PAYOUT_SEALED)
                ? db_col_strdup(res, 0, PAYOUT_ACCOUNT_NUMBER) /* not sealed yet */
                : user_unseal(db_col_str(res, 0, PAYOUT_SEALED));
        out->ifsc = db_col_strdup(res, 0, PAYOUT_IFSC);
        if (out->method && strcmp(out->method, "bank") == 0 && !out->account_number)
            st = DB_ERROR; /* sealed under another key: no payout to a wrong account */
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_contact(struct db_conn *c, const char *id, struct user_contact_info *out)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    memset(out, 0, sizeof *out);
    if (!ids_is_uuid(id))
        return DB_NOT_FOUND;
    enum db_status st = user_repo_row(c, "user_contact", DB_PARAMS(p), &res);
    if (st == DB_OK) {
        out->email = db_col_strdup(res, 0, CONTACT_EMAIL);
        out->phone = db_col_strdup(res, 0, CONTACT_PHONE);
        out->name = db_col_strdup(res, 0, CONTACT_NAME);
        out->email_verified = db_col_bool(res, 0, CONTACT_EMAIL_VERIFIED);
        out->phone_verified = db_col_bool(res, 0, CONTACT_PHONE_VERIFIED);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_suspended_recent(struct db_conn *c, struct user_suspended_set **out)
{
    PGresult *res = NULL;
    *out = NULL;
    enum db_status st = db_exec(c, "user_suspended_recent", 0, NULL, &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    struct user_suspension *v = xcalloc((size_t)rows + 1, sizeof *v);
    size_t n = 0;
    for (int i = 0; i < rows; i++) {
        if (user_uuid_parse(db_col_str(res, i, SUSPENDED_ID), v[n].id))
            v[n++].at = db_col_ll(res, i, SUSPENDED_AT);
    }
    PQclear(res);
    *out = user_suspended_set_new(v, n);
    free(v);
    return DB_OK;
}

/* Fills the entries of out whose user_id matches a row of res. */
static void fill_names(const PGresult *res, struct user_name *out, size_t n)
{
    for (int row = 0; row < PQntuples(res); row++) {
        const char *id = db_col_str(res, row, NAME_ID);
        for (size_t i = 0; i < n; i++) {
            if (out[i].found || strcmp(out[i].user_id, id) != 0)
                continue;
            out[i].found = true;
            db_col_copy(res, row, NAME_DISPLAY, out[i].display_name, sizeof out[i].display_name);
        }
    }
}

enum db_status user_repo_display_names(struct db_conn *c, struct user_name *out, size_t n)
{
    struct strbuf ids;
    strbuf_init(&ids);
    strbuf_append(&ids, "{", 1);
    for (size_t i = 0, k = 0; i < n; i++) {
        out[i].found = false;
        out[i].display_name[0] = '\0';
        if (ids_is_uuid(out[i].user_id))
            strbuf_printf(&ids, "%s%s", k++ ? "," : "", out[i].user_id);
    }
    strbuf_append(&ids, "}", 1);
    PGresult *res = NULL;
    const char *p[] = {ids.buf};
    enum db_status st = db_exec(c, "user_display_names", DB_PARAMS(p), &res);
    if (st == DB_OK)
        fill_names(res, out, n);
    PQclear(res);
    strbuf_cleanup(&ids);
    return st;
}

enum db_status user_repo_seal_pick(struct db_conn *c, char ids[][IDS_UUID_LEN], char **numbers,
                                   int *n)
{
    PGresult *res = NULL;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", USER_SEAL_BATCH);
    const char *p[] = {lim};
    *n = 0;
    enum db_status st = db_exec(c, "user_seal_pick", DB_PARAMS(p), &res);
    for (int i = 0; st == DB_OK && i < PQntuples(res) && i < USER_SEAL_BATCH; i++) {
        db_col_copy(res, i, 0, ids[i], IDS_UUID_LEN);
        numbers[i] = db_col_strdup(res, i, 1);
        *n = i + 1;
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_seal_store(struct db_conn *c, const char *id, const char *sealed,
                                    const char *last4)
{
    const char *p[] = {id, sealed, last4};
    return db_exec(c, "user_seal_store", DB_PARAMS(p), NULL);
}

/* user_admin_search answers USER_COLS, then the page key (created_at in microseconds). */
enum { SEARCH_KEY = UCOL_CREATED_AT + 1 };

enum db_status user_repo_search(struct db_conn *c, const char *q, const char *status, int limit,
                                const struct page_key *after, json_t **items, bool *more,
                                struct page_key *next)
{
    char key[24], lim[16];
    snprintf(key, sizeof key, "%lld", after ? (long long)after->key : -1LL);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {q, status, key, after ? after->id : "00000000-0000-0000-0000-000000000000",
                       lim};
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "user_admin_search", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    int n = PQntuples(res);
    *more = n > limit;
    if (*more)
        n = limit;
    *items = json_array();
    for (int i = 0; i < n; i++) {
        struct user_rec u = {0};
        row_to_user(res, i, &u);
        json_t *o = user_rec_json(&u);
        json_object_set_new(o, "status", json_string(u.suspended ? "suspended" : "active"));
        json_array_append_new(*items, o);
        if (i == n - 1 && *more) {
            next->key = db_col_ll(res, i, SEARCH_KEY);
            db_col_copy(res, i, UCOL_ID, next->id, sizeof next->id);
        }
        user_rec_cleanup(&u);
    }
    PQclear(res);
    return DB_OK;
}
