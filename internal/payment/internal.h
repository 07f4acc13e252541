/* Private to internal/payment: shared between its commands, queries, jobs, providers and
 * repository.
 *
 * Handlers (commands/, queries/) never read a PGresult: the repository returns typed records.
 * Repository functions take the connection they run on as their first parameter; handlers get
 * it from the request kit (http_req_db_or_reply, or http_txn for commands), jobs from db_txn. */
#ifndef HAAT_INTERNAL_PAYMENT_INTERNAL_H
#define HAAT_INTERNAL_PAYMENT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/payment/payment.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/ids/ids.h"
#include "pkg/page/page.h"
#include "pkg/config/config.h"

/* The NOTIFY channel that wakes the payment jobs (refunds, sandbox webhooks). */
#define PAYMENT_CHANNEL     "haat_payments"
#define PAYMENT_JOB_REFUNDS "payment.refunds"
#define PAYMENT_JOB_SANDBOX "payment.sandbox_webhooks"
/* Asks the provider about payments left waiting (a lost webhook); razorpay only. */
#define PAYMENT_JOB_RECONCILE     "payment.reconcile"
#define PAYMENT_RECONCILE_IDLE_MS 1000

#define PAYMENT_REF_LEN      101 /* provider references, up to 100 bytes */
#define PAYMENT_URL_LEN      1024
#define PAYMENT_EVENT_ID_LEN 201
#define PAYMENT_STATUS_LEN   24
/* A webhook's timestamp may be this many seconds old (or ahead), no more. */
#define PAYMENT_WEBHOOK_TOLERANCE_S 300
/* Attempts before a refund, or a sandbox webhook, is given up (status failed). */
#define PAYMENT_REFUND_MAX_ATTEMPTS  5
#define PAYMENT_SANDBOX_MAX_ATTEMPTS 8
/* Retry delay after attempt n (1-based): base * 2^(n-1) seconds, at most cap. */
#define PAYMENT_RETRY_BASE_S 1
#define PAYMENT_RETRY_CAP_S  300
/* A claimed job row is someone's for this long (a worker that dies mid-call loses it). */
#define PAYMENT_LEASE_S 60

/* ---- settings (module.c) ------------------------------------------------------------------ */

/* What payment_init kept of the configuration (strings owned by the module). */
struct payment_settings {
    char *public_url;          /* HAAT_PUBLIC_URL, no trailing slash */
    char *sandbox_secret;      /* HAAT_SANDBOX_WEBHOOK_SECRET */
    bool sandbox;              /* HAAT_PAYMENT_PROVIDER is sandbox (else razorpay) */
    char *rzp_base_url;        /* HAAT_RAZORPAY_BASE_URL, no trailing slash */
    char *rzp_key_id;          /* HAAT_RAZORPAY_KEY_ID */
    char *rzp_key_secret;      /* HAAT_RAZORPAY_KEY_SECRET */
    char *rzp_webhook_secret;  /* HAAT_RAZORPAY_WEBHOOK_SECRET */
    int64_t reconcile_after_s; /* HAAT_PAYMENT_RECONCILE_AFTER_S */
};
const struct payment_settings *payment_settings(void);
/* Counts a webhook whose amount or currency differ from its payment's. */
void payment_count_mismatch(const char *provider);
/* Counts an accepted webhook by what it did (webhook_events.outcome). */
void payment_count_webhook(const char *provider, const char *outcome);

/* ---- records (repo_payments.c) ------------------------------------------------------------ */

struct payment_row {
    char id[IDS_UUID_LEN];
    char order_id[IDS_UUID_LEN];
    char buyer_id[IDS_UUID_LEN];
    char seller_id[IDS_UUID_LEN];
    char status[PAYMENT_STATUS_LEN];
    char method[16];
    int64_t amount_minor;
    char currency[4];
    int64_t commission_minor;
    char provider[16];
    char provider_ref[PAYMENT_REF_LEN];
    char checkout_url[PAYMENT_URL_LEN];
    char return_url[PAYMENT_URL_LEN]; /* "" when none */
    char created_at[40];              /* RFC 3339 UTC */
};

/* A payment as the client sees it ("Payment" in docs/openapi.yaml); new reference. */
json_t *payment_json(const struct payment_row *p);

/* ---- the ledger (ledger.c, repo_ledger.c) ------------------------------------------------- */

/* Platform accounts; a seller's are "seller:<id>:pending|available|in_transit|paid_out". */
#define PAYMENT_ACC_CLEARING "platform:gateway_clearing"
#define PAYMENT_ACC_ESCROW   "platform:escrow_held"
#define PAYMENT_ACC_REVENUE  "platform:revenue"
#define PAYMENT_ACC_REFUNDS  "platform:refunds_payable"
#define PAYMENT_ACC_ID_LEN   64
#define PAYMENT_MAX_LEGS     8

/* One leg: amount_minor > 0 is a debit of the account, < 0 a credit; never 0. */
struct payment_leg {
    char account[PAYMENT_ACC_ID_LEN];
    int64_t amount_minor;
};

/* "seller:<seller_id>:<kind>" into out. */
void payment_seller_account(char out[PAYMENT_ACC_ID_LEN], const char *seller_id, const char *kind);

/* Posts transfer transfer_id (client-chosen, e.g. "capture:<payment id>") of kind
 * (capture | refund | refund_paid) with n legs (2..PAYMENT_MAX_LEGS) inside the caller's
 * transaction on c; seller accounts are created on first use. A transfer id already posted is
 * a no-op (DB_OK, *posted false when posted is not NULL): retries never post twice. The
 * database checks at COMMIT that the legs sum to zero. order_id and payment_id may be NULL.
 * DB_ERROR (logged) for a caller bug: n out of range, a zero leg, or legs that do not sum to
 * zero (refused before the database would). */
enum db_status payment_ledger_post(struct db_conn *c, const char *transfer_id, const char *kind,
                                   const char *order_id, const char *payment_id,
                                   const struct payment_leg *legs, size_t n, bool *posted);

/* The postings of the money flow (ledger.c): each one transfer, named after its cause. */
/* capture:<payment id>: the provider captured the payment; it is held in escrow and the
 * seller's pending rises. */
enum db_status payment_post_capture(struct db_conn *c, const struct payment_row *p);
/* refund:<refund id>: the money held for the seller is owed back to the buyer. */
enum db_status payment_post_refund(struct db_conn *c, const struct payment_row *p,
                                   const char *refund_id);
/* refund_paid:<refund id>: the provider paid the buyer back out of escrow. */
enum db_status payment_post_refund_paid(struct db_conn *c, const char *refund_id,
                                        const char *order_id, const char *payment_id,
                                        int64_t amount_minor);

/* payment_release_order (payment.h) posts commission:<order id> (pending -> revenue) and
 * release:<order id> (pending -> available). */

/* The seller's money as GET /v1/seller/balance shows it (repo_money.c): each figure is what
 * the platform owes the seller in that state (the credit balance of the account, 0 when the
 * account does not exist yet). */
struct payment_balance {
    char currency[4];
    int64_t pending_minor, available_minor, in_transit_minor, paid_out_minor;
};
void payment_repo_money_register(void);
enum db_status payment_repo_balance(struct db_conn *c, const char *seller_id,
                                    struct payment_balance *out);
/* Listing name of the seller's transactions (pkg/page; key: the transfer's seq). */
#define PAYMENT_LISTING_TRANSACTIONS "payment.transactions"
/* A page of the seller's transactions, newest first: items appended to out as a JSON array's
 * members (comma-separated objects), *more and *next for the next page. */
enum db_status payment_repo_transactions(struct db_conn *c, const char *seller_id,
                                         const struct page_req *pg, struct strbuf *out, bool *more,
                                         struct page_key *next);

/* repo_ledger.c */
void payment_repo_ledger_register(void);
/* Inserts the transfer row (and any seller accounts named by the legs); *fresh false when the
 * id was posted before (then nothing was written). */
enum db_status payment_repo_transfer_insert(struct db_conn *c, const char *transfer_id,
                                            const char *kind, const char *order_id,
                                            const char *payment_id, const char *accounts_array,
                                            bool *fresh);
/* Inserts the legs (PostgreSQL array literals of account ids and amounts, in leg order). */
enum db_status payment_repo_legs_insert(struct db_conn *c, const char *transfer_id,
                                        const char *accounts_array, const char *amounts_array);

/* ---- providers (provider.c, provider_sandbox.c) ------------------------------------------- */

/* What a checkout needs. */
struct payment_checkout_in {
    const char *payment_id;
    const char *order_id;
    const char *return_url; /* where the buyer comes back to; NULL: HAAT_PUBLIC_URL */
    const char *method;     /* card | netbanking | upi */
    int64_t amount_minor;
    const char *currency;
};
struct payment_checkout {
    char provider_ref[PAYMENT_REF_LEN];
    char url[PAYMENT_URL_LEN]; /* next_action.url */
};

/* A provider's webhook, verified and parsed. */
enum payment_event_type { PAYMENT_EVENT_SUCCEEDED, PAYMENT_EVENT_FAILED, PAYMENT_EVENT_OTHER };
struct payment_event {
    char id[PAYMENT_EVENT_ID_LEN];
    char type[48]; /* as sent */
    enum payment_event_type kind;
    char payment_id[IDS_UUID_LEN]; /* "" when absent or not a UUID */
    char provider_ref[PAYMENT_REF_LEN];
    int64_t amount_minor;
    char currency[4];
    int64_t created;
};
enum payment_verdict {
    PAYMENT_WEBHOOK_OK,
    PAYMENT_WEBHOOK_BAD_SIGNATURE, /* missing, malformed, wrong or stale */
    PAYMENT_WEBHOOK_MALFORMED,     /* signed, but not an event this provider sends */
};
/* A request header by name (borrowed), NULL when absent. */
typedef const char *(*payment_header_fn)(void *ctx, const char *name);

/* What happened to a refund sent to the provider. */
enum payment_refund_result { PAYMENT_REFUND_DONE, PAYMENT_REFUND_RETRY, PAYMENT_REFUND_FAILED };
struct payment_refund_in {
    const char *refund_id;
    const char *payment_id;
    const char *provider_ref; /* the payment's */
    int64_t amount_minor;
    const char *currency;
};

/* What a provider says of a payment: status "succeeded", "failed" or "pending"; the amount
 * and currency it took (amount_minor -1 when it does not say). */
struct payment_state {
    char status[16];
    int64_t amount_minor;
    char currency[4];
};

/* A payment provider: the sandbox or razorpay. Functions that talk to the provider over the
 * network (create_checkout, refund, a network provider's fetch_state) are called outside any
 * transaction: the payment row is committed before create_checkout and its outcome recorded
 * in a second transaction. */
struct payment_provider {
    const char *name; /* "sandbox": the {provider} of its webhook route */
    int (*create_checkout)(const struct payment_checkout_in *in, struct payment_checkout *out);
    /* Verifies the signature of a webhook (headers through header(ctx, name), the raw body)
     * at unix time now and parses it into out. */
    enum payment_verdict (*parse_webhook)(payment_header_fn header, void *ctx, const char *body,
                                          size_t len, int64_t now, struct payment_event *out);
    /* The provider's view of a payment into out; 0, or -1 when it cannot tell. c serves
     * providers whose state lives in haat's own database (the sandbox); a network provider
     * ignores it (NULL is fine). */
    int (*fetch_state)(struct db_conn *c, const char *provider_ref, struct payment_state *out);
    /* Refunds in full; ref gets the provider's refund reference on DONE, err why otherwise. */
    enum payment_refund_result (*refund)(const struct payment_refund_in *in, char *ref,
                                         size_t reflen, char *err, size_t errlen);
};
/* The configured provider; the provider named name ("sandbox"), or NULL. */
const struct payment_provider *payment_provider(void);
const struct payment_provider *payment_provider_named(const char *name);
extern const struct payment_provider payment_sandbox_provider;
extern const struct payment_provider payment_razorpay_provider;

/* The sandbox's signature header value for body at unix time t: "t=<t>,v1=<hex HMAC-SHA256
 * of "<t>.<body>" keyed with the secret's bytes>" into out (at least 96 bytes). */
#define PAYMENT_SIGNATURE_LEN 96
void payment_sandbox_sign(const char *secret, int64_t t, const char *body, size_t len,
                          char out[PAYMENT_SIGNATURE_LEN]);
/* True when header is a valid signature of body under secret no more than
 * PAYMENT_WEBHOOK_TOLERANCE_S away from now. */
bool payment_sandbox_verify(const char *secret, const char *header, const char *body, size_t len,
                            int64_t now);
/* Parses a sandbox event body (not the signature). */
bool payment_sandbox_parse(const char *body, size_t len, struct payment_event *out);

/* ---- input (validate.c) ------------------------------------------------------------------- */

/* A POST /v1/orders/{id}/payments body. Strings borrowed from the request's JSON. */
struct payment_create_input {
    const char *method;
    const char *return_url; /* NULL: none */
};
/* Parses and validates body: method required; return_url must start with public_url; card
 * data (card_number, cvv, ...) is refused. Errors go to e. */
void payment_parse_create(const json_t *body, const char *public_url,
                          struct payment_create_input *in, struct jsonh_errors *e);

/* ---- repository (repo_payments.c) --------------------------------------------------------- */

void payment_repo_register(void);
enum db_status payment_repo_insert(struct db_conn *c, const struct payment_row *p);
/* Records the provider's reference and checkout URL of a payment made before its checkout. */
enum db_status payment_repo_set_checkout(struct db_conn *c, const char *id,
                                         const char *provider_ref, const char *url);
/* The payment of provider with provider_ref, locked. DB_NOT_FOUND when none. */
enum db_status payment_repo_get_by_ref(struct db_conn *c, const char *provider,
                                       const char *provider_ref, struct payment_row *out);
/* The payment id; lock: FOR UPDATE (inside a transaction). DB_NOT_FOUND when none. */
enum db_status payment_repo_get(struct db_conn *c, const char *id, bool lock,
                                struct payment_row *out);
/* The order's succeeded payment, locked. DB_NOT_FOUND when it has none. */
enum db_status payment_repo_succeeded_of_order(struct db_conn *c, const char *order_id,
                                               struct payment_row *out);
/* Sets status (and succeeded_at for succeeded). */
enum db_status payment_repo_set_status(struct db_conn *c, const char *id, const char *status);

/* Records an accepted webhook; *fresh false when (provider, event id) was seen before
 * (nothing written). */
enum db_status payment_repo_event_insert(struct db_conn *c, const char *provider,
                                         const struct payment_event *ev, const char *body,
                                         size_t len, const char *outcome, bool *fresh);

/* Sets the outcome of a recorded webhook (once payment_apply_event has told it). */
enum db_status payment_repo_event_outcome(struct db_conn *c, const char *provider,
                                          const char *event_id, const char *outcome);

/* A refund: creates it (pending) and wakes the refund job at COMMIT. */
enum db_status payment_repo_refund_insert(struct db_conn *c, const char *refund_id,
                                          const struct payment_row *p, const char *reason);
/* A claimed refund. */
struct payment_refund_claim {
    char id[IDS_UUID_LEN];
    char payment_id[IDS_UUID_LEN];
    char order_id[IDS_UUID_LEN];
    char provider_ref[PAYMENT_REF_LEN];
    int64_t amount_minor;
    char currency[4];
    int attempts; /* including this one */
};
/* Leases one due pending refund (autocommit). DB_NOT_FOUND when none is due. */
enum db_status payment_repo_refund_claim(struct db_conn *c, struct payment_refund_claim *out);
/* The refunds that failed for good, newest first (at most 1000), as a JSON array of {id,
 * payment_id, order_id, amount_minor, currency, attempts, last_error, reason, created_at}
 * (new reference in *out). */
enum db_status payment_repo_failed_refunds(struct db_conn *c, json_t **out);
enum db_status payment_repo_refund_processed(struct db_conn *c, const char *id, const char *ref,
                                             bool *changed);
/* A failed attempt: retried after delay_s, or failed for good when final. */
enum db_status payment_repo_refund_retry(struct db_conn *c, const char *id, int delay_s, bool final,
                                         const char *error);

/* A payment of provider still requires_action or processing, created and last touched more
 * than after_s seconds ago: leased for after_s seconds (updated_at pushed to now), FOR UPDATE
 * SKIP LOCKED (autocommit). DB_NOT_FOUND when none is due. */
struct payment_reconcile_claim {
    char id[IDS_UUID_LEN];
    char provider_ref[PAYMENT_REF_LEN];
    int64_t amount_minor;
    char currency[4];
};
enum db_status payment_repo_reconcile_claim(struct db_conn *c, const char *provider,
                                            int64_t after_s, struct payment_reconcile_claim *out);

/* The sandbox's outgoing webhooks. */
enum db_status payment_repo_sandbox_enqueue(struct db_conn *c, const char *id, const char *event_id,
                                            const char *payment_id, const char *body);
struct payment_sandbox_claim {
    char id[IDS_UUID_LEN];
    char *body; /* owned: free */
    int attempts;
};
enum db_status payment_repo_sandbox_claim(struct db_conn *c, struct payment_sandbox_claim *out);
enum db_status payment_repo_sandbox_done(struct db_conn *c, const char *id);
enum db_status payment_repo_sandbox_retry(struct db_conn *c, const char *id, int delay_s,
                                          bool final, const char *error);
/* The sandbox's view of a payment: the outcome of its latest webhook ("" when none). */
enum db_status payment_repo_sandbox_latest(struct db_conn *c, const char *provider_ref, char *type,
                                           size_t n);

/* ---- the money flow (apply.c, refunds.c, events.c) ---------------------------------------- */

/* Applies a verified provider event inside the webhook's transaction: forward-only status
 * changes, the capture, order_mark_paid and, when the order no longer takes it, the
 * automatic refund. *outcome gets what it did (webhook_events.outcome, static). */
enum db_status payment_apply_event(struct db_conn *c, const struct payment_event *ev,
                                   const char **outcome);
/* The one path of a provider event, webhook or reconciliation, inside c's transaction: records
 * it under (provider, ev->id) with its raw body and, when fresh (*fresh), applies it
 * (payment_apply_event) and records its outcome. *outcome "duplicate" when not fresh. */
enum db_status payment_record_event(struct db_conn *c, const char *provider,
                                    const struct payment_event *ev, const char *body, size_t len,
                                    const char **outcome, bool *fresh);
/* Refunds the succeeded payment p in full (p->status becomes refunded) inside c's
 * transaction: refund row, payment status, ledger, payment.refunded. */
enum db_status payment_refund(struct db_conn *c, struct payment_row *p, const char *reason);
/* The refund job's batch: 1 when it handled a refund, 0 when none was due, -1 on error. */
int payment_refunds_run(void *arg);
/* The sandbox webhook sender's batch, same convention. */
int payment_sandbox_send_run(void *arg);
/* The reconciliation job's batch (reconcile.c), same convention. */
int payment_reconcile_run(void *arg);
/* Seconds before retry number attempts + 1. */
int payment_retry_delay(int attempts);

enum db_status payment_emit_succeeded(struct db_conn *c, const struct payment_row *p);
enum db_status payment_emit_failed(struct db_conn *c, const struct payment_row *p);
enum db_status payment_emit_refunded(struct db_conn *c, const struct payment_row *p);

/* ---- the sandbox checkout page (sandbox_page.c) ------------------------------------------- */

/* The HTML checkout page of p (a new string). */
char *payment_sandbox_page(const struct payment_row *p);

/* ---- handlers (commands/, queries/; tables and payment_routes in routes.c) ---------------- */

void payment_create_payment(struct http_req *r);
void payment_receive_webhook(struct http_req *r);
void payment_complete_sandbox_payment(struct http_req *r);
void payment_get_payment(struct http_req *r);
void payment_get_sandbox_checkout(struct http_req *r);
void payment_get_balance(struct http_req *r);
void payment_list_transactions(struct http_req *r);

/* ---- Razorpay's HTTP API (rzp_http.c): razorpay payments and razorpayx payouts ------------ */

struct rzp_creds {
    const char *base_url; /* no trailing slash */
    const char *key_id, *key_secret;
    const char *who; /* "razorpay" | "razorpayx": names errors */
};
/* One call's answer: HTTP status (0 when the transport failed) and parsed JSON (or NULL). */
struct rzp_answer {
    long status;
    json_t *json;
    char err[200];
};
/* GET path (post false) or POST the JSON body to path, with the optional extra header line.
 * a gets the status and the answer's JSON (the caller decrefs a->json). */
void rzp_http_call(const struct rzp_creds *cr, const char *path, bool post, const json_t *body,
                   const char *extra, struct rzp_answer *a);
/* A 2xx answer with a JSON object. */
bool rzp_answer_ok(const struct rzp_answer *a);
/* Copies the string member k of o into buf; false when absent, empty or too long. */
bool rzp_str_member(const json_t *o, const char *k, char *buf, size_t n);
/* True when header is the hex HMAC-SHA256 of body keyed with secret (never with no secret). */
bool rzp_signature_ok(const char *secret, const char *header, const char *body, size_t len);

/* ---- payouts (payout_*.c, provider_payout*.c, repo_payouts.c) ----------------------------- */

/* A seller's payouts out of their available balance (migration 0016). */
#define PAYOUT_JOB_SEND          "payment.payout_send"
#define PAYOUT_JOB_RECONCILE     "payment.payout_reconcile"
#define PAYOUT_MIN_MINOR         100                   /* ₹1 */
#define PAYOUT_MAX_MINOR         INT64_C(100000000000) /* ₹100 crore: a bound, not a policy */
#define PAYOUT_SEND_MAX_ATTEMPTS 8
#define PAYOUT_REASON_LEN        501
#define PAYMENT_ACC_PAYOUTS      "platform:payouts"
#define PAYOUT_JSON_TYPE         "application/json; charset=utf-8"

/* The payout life cycle, as data (payout_state.c): processing -> paid | failed,
 * paid -> reversed. */
enum payout_status { PAYOUT_PROCESSING, PAYOUT_PAID, PAYOUT_FAILED, PAYOUT_REVERSED };
/* What the provider (its webhook, or the reconciliation job's question) says happened. */
enum payout_event { PAYOUT_EV_PROCESSED, PAYOUT_EV_FAILED, PAYOUT_EV_REVERSED };

struct payout_row {
    char id[IDS_UUID_LEN];
    char seller_id[IDS_UUID_LEN];
    int64_t amount_minor;
    char currency[4];
    char status[PAYMENT_STATUS_LEN];
    char method[8]; /* upi | bank */
    char last4[8];
    char provider[16];
};

/* The postings of a payout (payout_ledger.c); each one transfer named after its cause.
 * kind: "payout" (available -> in_transit), "payout_paid" (in_transit -> paid_out; the money
 * leaves escrow for the platform's payouts account), "payout_failed" (in_transit ->
 * available), "payout_reversal" (paid_out -> available; back into escrow). */
enum db_status payout_post(struct db_conn *c, const char *kind, const struct payout_row *p);

/* One transition of the table: from, on event, to; the ledger posting and the event emitted. */
struct payout_transition {
    enum payout_status from;
    enum payout_event event;
    enum payout_status to;
    const char *posting; /* transfer kind (payout_post) */
    const char *emits;   /* outbox event type */
};
/* The transition from status on event, or NULL when the payout has moved past it. */
const struct payout_transition *payout_decide(enum payout_status from, enum payout_event event);
const char *payout_status_name(enum payout_status s);
bool payout_status_parse(const char *s, enum payout_status *out);

/* The one path of every provider outcome (webhook, reconciliation, the sandbox's reversal)
 * inside c's transaction: locks payout id, moves it forward through payout_decide, posts its
 * transfer and emits its event. reason (NULL: none) is kept as failure_reason when it fails.
 * *outcome: the new status, "ignored" (moved past it) or "unknown_payout" (static). */
enum db_status payout_apply(struct db_conn *c, const char *id, enum payout_event ev,
                            const char *reason, const char **outcome);

/* A payout provider: the sandbox (razorpayx to come). send and a network provider's
 * fetch_state are called outside any transaction. */
struct user_payout;
struct payout_send_in {
    const char *payout_id;
    const char *seller_id;
    int64_t amount_minor;
    const char *currency;
    const struct user_payout *dest; /* opened only for this call */
    const char *fund_account_id;    /* the provider's for this destination, "" when none yet */
};
struct payout_send_out {
    char ref[PAYMENT_REF_LEN]; /* the provider's id of the payout (DONE) */
    /* Made by this call (to be kept for the next payouts to the destination), "" otherwise. */
    char contact_id[PAYMENT_REF_LEN];
    char fund_account_id[PAYMENT_REF_LEN];
    char err[256]; /* why not (RETRY, REFUSED); never holds the account number */
};
enum payout_send_result { PAYOUT_SEND_DONE, PAYOUT_SEND_RETRY, PAYOUT_SEND_REFUSED };
/* What the provider says of a payout: status "processed", "failed", "reversed" or "pending";
 * reason for failed and reversed ("" when it gives none). */
struct payout_state {
    char status[16];
    char reason[PAYOUT_REASON_LEN];
};
struct payout_provider {
    const char *name; /* payouts.provider, the {provider} of its webhook route */
    /* Hands the payout to the provider (our payout id its idempotency key): DONE, or RETRY /
     * REFUSED with out->err. */
    enum payout_send_result (*send)(const struct payout_send_in *in, struct payout_send_out *out);
    /* The provider's view of the payout it knows as provider_ref; 0, or -1 when it cannot
     * tell. */
    int (*fetch_state)(const char *provider_ref, int64_t amount_minor, struct payout_state *out);
};
const struct payout_provider *payout_provider(void);
extern const struct payout_provider payout_sandbox_provider;
extern const struct payout_provider payout_razorpayx_provider;
/* What payout_init kept for razorpayx (strings owned by the module). */
struct payout_settings {
    struct rzp_creds api; /* HAAT_RAZORPAYX_BASE_URL, _KEY_ID, _KEY_SECRET */
    char *account_number; /* HAAT_RAZORPAYX_ACCOUNT_NUMBER */
    char *webhook_secret; /* HAAT_RAZORPAYX_WEBHOOK_SECRET */
};
const struct payout_settings *payout_settings(void);
/* Frees what payout_init kept (secrets wiped); called by payment_cleanup. */
void payout_cleanup(void);
/* IMPS up to this amount (₹5 lakh), NEFT above it: razorpayx bank payouts. */
#define PAYOUT_IMPS_MAX_MINOR INT64_C(50000000)
/* The mode of a razorpayx payout: UPI for a VPA, IMPS / NEFT by amount for a bank account. */
const char *payout_mode(const char *method, int64_t amount_minor);
/* The reason a RazorpayX payout entity gives (status_details.description, else
 * failure_reason) into out, "" when none. */
void payout_reason_of(const json_t *payout, char *out, size_t n);
/* Amounts whose paise end in this fail at the sandbox (README, docs/openapi.yaml). */
#define PAYOUT_SANDBOX_FAIL_PAISE 13

/* Keeps the payout settings (HAAT_PAYOUT_PROVIDER, HAAT_PAYOUT_RECONCILE_AFTER_S) and
 * registers the statements once; called by payment_init. 0, or -1 (logged). */
int payout_init(const struct cfg *c);
int payout_register_jobs(void);
int64_t payout_reconcile_after_s(void);

/* repo_payouts.c */
void payout_repo_register(void);
/* The seller's available balance (0 when the account does not exist yet), its account row
 * locked FOR UPDATE so concurrent payouts of one seller take turns. */
enum db_status payout_repo_lock_available(struct db_conn *c, const char *seller_id,
                                          int64_t *available);
/* Inserts the payout (processing) and wakes the send job at COMMIT. */
enum db_status payout_repo_insert(struct db_conn *c, const struct payout_row *p);
/* The payout, locked when lock. DB_NOT_FOUND when none. */
enum db_status payout_repo_get(struct db_conn *c, const char *id, bool lock,
                               struct payout_row *out);
/* The payout as the client sees it ("Payout" in docs/openapi.yaml), a heap JSON text in *json;
 * seller_id NULL: whoever's it is. DB_NOT_FOUND when none. */
enum db_status payout_repo_json(struct db_conn *c, const char *id, const char *seller_id,
                                char **json);
enum db_status payout_repo_set_status(struct db_conn *c, const char *id, const char *status,
                                      const char *reason);
/* A page of the seller's payouts, newest first (JSON texts). */
struct payout_page {
    char **items;
    size_t n;
    bool more;
    struct page_key next;
};
enum db_status payout_repo_page(struct db_conn *c, const char *seller_id, const struct page_req *pg,
                                struct payout_page *out);
void payout_page_cleanup(struct payout_page *pg);
/* A processing payout not yet handed to the provider, leased (autocommit). */
struct payout_send_claim {
    char id[IDS_UUID_LEN];
    char seller_id[IDS_UUID_LEN];
    int64_t amount_minor;
    char currency[4];
    int attempts; /* including this one */
};
enum db_status payout_repo_send_claim(struct db_conn *c, struct payout_send_claim *out);
enum db_status payout_repo_sent(struct db_conn *c, const char *id, const char *provider_ref);
enum db_status payout_repo_send_retry(struct db_conn *c, const char *id, int delay_s,
                                      const char *error);
/* A processing payout of provider untouched for after_s seconds, leased as
 * payment_repo_reconcile_claim does. */
struct payout_check_claim {
    char id[IDS_UUID_LEN];
    char provider_ref[PAYMENT_REF_LEN];
    int64_t amount_minor;
};
/* The provider's fund account for the seller's destination fingerprint (hex), "" when none. */
enum db_status payout_repo_fund_account(struct db_conn *c, const char *seller_id,
                                        const char *provider, const char *fingerprint,
                                        char out[PAYMENT_REF_LEN]);
enum db_status payout_repo_fund_account_keep(struct db_conn *c, const char *seller_id,
                                             const char *provider, const char *fingerprint,
                                             const char *contact_id, const char *fund_account_id);
/* The payout id of provider's payout provider_ref into id. DB_NOT_FOUND when none. */
enum db_status payout_repo_by_ref(struct db_conn *c, const char *provider, const char *provider_ref,
                                  char id[IDS_UUID_LEN]);
enum db_status payout_repo_check_claim(struct db_conn *c, const char *provider, int64_t after_s,
                                       struct payout_check_claim *out);

/* The jobs' batches (payout_jobs.c): 1 when one payout was handled, 0 idle, -1 on error. */
int payout_send_run(void *arg);
/* POST /v1/payments/webhooks/razorpayx while the payout provider is razorpayx (dispatched by
 * payment_receive_webhook). */
void payment_receive_payout_webhook(struct http_req *r);
int payout_reconcile_run(void *arg);

void payment_create_payout(struct http_req *r);
void payment_list_payouts(struct http_req *r);
void payment_reverse_sandbox_payout(struct http_req *r);

#endif
