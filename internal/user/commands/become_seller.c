/* POST /v1/me/seller {display_name, payout:{method:"upi", upi_vpa} |
 *                     {method:"bank", account_name, account_number, ifsc}}
 *   -> 201 {"seller":{id, display_name, joined_at, payout:{...}}, "user":{...}}
 *
 * The route needs a verified phone (the token's pv claim; the row is checked again here).
 * The seller's id is the user's id. Only what payouts need is stored; the account number is
 * never returned (account_number_last4 only). 409 already_exists for a second call. Emits
 * seller.activated in the same transaction.
 *
 * Roles travel in the access token, which is verified without the database: the caller's
 * current token still says "buyer" only. The response carries the updated user (roles now
 * include "seller"); the client then calls POST /v1/auth/refresh to get a token with the
 * seller role. (No token is put in this response: responses to POSTs with an
 * Idempotency-Key are stored for replay, and tokens must never be stored in clear.) */
#include <stddef.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/outbox/outbox.h"

static const char *const methods[] = {"upi", "bank", NULL};

struct payout_body {
    const char *method, *upi_vpa, *account_name, *account_number, *ifsc;
};

struct body {
    const char *display_name;
    struct payout_body payout;
};

static const struct jsonh_field payout_spec[] = {
    {.name = "method",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = methods,
     .offset = offsetof(struct payout_body, method)},
    {.name = "upi_vpa",
     .type = JSONH_STRING,
     .min = 1,
     .max = 321,
     .offset = offsetof(struct payout_body, upi_vpa)},
    {.name = "account_name",
     .type = JSONH_STRING,
     .flags = JSONH_NOT_BLANK,
     .min = 2,
     .max = 100,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct payout_body, account_name)},
    {.name = "account_number",
     .type = JSONH_STRING,
     .min = 1,
     .max = 64,
     .offset = offsetof(struct payout_body, account_number)},
    {.name = "ifsc",
     .type = JSONH_STRING,
     .min = 1,
     .max = 64,
     .offset = offsetof(struct payout_body, ifsc)},
    {0},
};

static const struct jsonh_field spec[] = {
    {.name = "display_name",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 2,
     .max = 80,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct body, display_name)},
    {.name = "payout",
     .type = JSONH_OBJECT,
     .flags = JSONH_REQUIRED,
     .fields = payout_spec,
     .offset = offsetof(struct body, payout)},
    {0},
};

enum outcome { CREATED, ALREADY, SUSPENDED, UNVERIFIED, GONE };

struct ctx {
    struct http_req *req;
    const char *user_id;
    struct user_seller_in in;
    char vpa[USER_UPI_LEN];
    char ifsc[USER_IFSC_LEN];
    char joined_at[CLOCK_RFC3339_LEN];
    struct user_rec user;
    enum outcome outcome;
};

static void require(struct jsonh_errors *e, const char *value, const char *field)
{
    if (!value)
        jsonh_errors_add(e, field, "is required");
}

/* Method-specific rules; fields of the other method are ignored, never stored. */
static void check_payout(const struct payout_body *p, struct ctx *x, struct jsonh_errors *e)
{
    x->in.method = p->method;
    if (p->method && strcmp(p->method, "upi") == 0) {
        require(e, p->upi_vpa, "payout.upi_vpa");
        if (p->upi_vpa && !user_upi_normalize(p->upi_vpa, x->vpa))
            jsonh_errors_add(e, "payout.upi_vpa", "must be a UPI id like name@bank");
        x->in.upi_vpa = x->vpa;
    } else if (p->method) {
        require(e, p->account_name, "payout.account_name");
        require(e, p->account_number, "payout.account_number");
        require(e, p->ifsc, "payout.ifsc");
        if (p->account_number && !user_account_number_valid(p->account_number))
            jsonh_errors_add(e, "payout.account_number", "must be 9 to 18 digits");
        if (p->ifsc && !user_ifsc_normalize(p->ifsc, x->ifsc))
            jsonh_errors_add(e, "payout.ifsc", "must be an IFSC code like HDFC0001234");
        x->in.account_name = p->account_name;
        x->in.account_number = p->account_number;
        x->in.ifsc = x->ifsc;
    }
}

static bool parse_or_reply(struct http_req *r, struct ctx *x)
{
    struct body b = {0};
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    uint64_t present = jsonh_parse(http_req_json(r), spec, &b, &e, NULL);
    if (present & 2u) /* payout present: check it even when display_name failed */
        check_payout(&b.payout, x, &e);
    x->in.display_name = b.display_name;
    return http_errors_or_reply(r, &e);
}

static enum db_status emit_activated(struct db_conn *c, const struct ctx *x)
{
    json_t *ev = json_pack("{s:s,s:s,s:s}", "user_id", x->user_id, "seller_id", x->user_id,
                           "display_name", x->in.display_name);
    enum db_status st = outbox_emit(c, "seller.activated", x->user_id, ev);
    json_decref(ev);
    return st;
}

/* The seller object of the answer (new reference); the account number as its last 4 only. */
static json_t *seller_json(const struct ctx *x)
{
    json_t *payout;
    if (strcmp(x->in.method, "upi") == 0) {
        payout = json_pack("{s:s,s:s}", "method", "upi", "upi_vpa", x->in.upi_vpa);
    } else {
        size_t n = strlen(x->in.account_number);
        payout =
            json_pack("{s:s,s:s,s:s,s:s}", "method", "bank", "account_name", x->in.account_name,
                      "account_number_last4", x->in.account_number + n - 4, "ifsc", x->in.ifsc);
    }
    return json_pack("{s:s,s:s,s:s,s:o}", "id", x->user_id, "display_name", x->in.display_name,
                     "joined_at", x->joined_at, "payout", payout);
}

/* Makes the caller a seller and replies 201; USER_UNCHANGED (x->outcome says why) when the
 * account may not become one or already is. */
static enum db_status seller_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    user_rec_cleanup(&x->user);
    enum db_status st = user_repo_get(c, USER_BY_ID, x->user_id, true, &x->user);
    if (st != DB_OK && st != DB_NOT_FOUND)
        return st;
    x->outcome = st == DB_NOT_FOUND        ? GONE
                 : x->user.suspended       ? SUSPENDED
                 : !x->user.phone_verified ? UNVERIFIED
                                           : CREATED;
    if (x->outcome != CREATED)
        return USER_UNCHANGED;
    st = user_repo_seller_insert(c, x->user_id, &x->in, x->joined_at);
    if (st == DB_CONFLICT) {
        x->outcome = ALREADY;
        return USER_UNCHANGED; /* nothing was written */
    }
    if (st == DB_OK)
        st = emit_activated(c, x);
    if (st == DB_OK) {
        x->user.is_seller = true;
        http_reply_json(
            x->req, 201,
            json_pack("{s:o,s:o}", "seller", seller_json(x), "user", user_rec_json(&x->user)));
    }
    return st;
}

static void reply_refused(struct http_req *r, enum outcome outcome)
{
    switch (outcome) {
    case ALREADY:
        http_reply_problem(r, 409, "already_exists", "this account is already a seller");
        break;
    case SUSPENDED:
        user_reply_suspended(r);
        break;
    case UNVERIFIED:
        http_reply_verification_required(r);
        break;
    case GONE:
    case CREATED: /* not reached: answered inside the transaction */
        http_reply_unauthorized(r, NULL);
        break;
    }
}

void user_become_seller(struct http_req *r)
{
    struct ctx x = {.req = r, .user_id = http_req_principal(r)->user_id};
    if (!parse_or_reply(r, &x))
        return;
    enum db_status st = http_txn(r, seller_txn, &x);
    if (st == USER_UNCHANGED)
        reply_refused(r, x.outcome);
    else if (st != DB_OK)
        http_reply_db(r, st);
    user_rec_cleanup(&x.user);
}
