/* The money property test: a few hundred random order journeys against the real server —
 * pay (or a failed attempt), cancel by either side, ship, confirm delivery, dispute, the hold
 * period passing (the release job), an admin's refund or release — interleaved at random
 * across a handful of sellers, with the sellers' own steps between them: a payout of part of
 * what is available (paid by the sandbox, or failing on demand), one asking for more than is
 * available (409, nothing changes), and the reversal of a paid payout. After every step: the order
 * is in the status the model says, and, in one snapshot of the database, each seller's pending +
 * available + in transit + paid out equals what its orders owe it, no seller account is in debit,
 * and the platform's revenue equals the commissions of completed orders (mf_assert_owed). At the
 * end each seller's GET /v1/seller/balance equals the model's figures, and the ledger invariant
 * holds.
 *
 * Steps are rows of one table (when a step applies, what it does, the model's status after
 * it), so payout steps (payout, payout failure, reversal) are added as rows. The seed is
 * printed; HAAT_MONEY_SEED replays a run. */
#include <time.h>
#include <unistd.h>

#include "tests/integration/money_fixtures.h"
#include "tests/integration/payout_fixtures.h"
#include "tests/test_main.h"

#define JOURNEYS 200
#define SELLERS  6
#define BUYERS   10
#define PAYOUTS  60 /* payouts at most in one run */

/* The model of an order: its status as the test expects it (NULL before placing). */
struct journey {
    char id[40];
    int seller, buyer;
    long long total, commission;
    const char *status;
    bool releasing; /* the hold period passed: the release job will complete it */
};

/* The model of a payout: what the sandbox will make of it. */
struct payout_model {
    char id[40];
    int seller;
    long long amount;
    bool fails;    /* an amount ending in 13 paise: the sandbox fails it */
    bool reversed; /* reversed after it was paid */
};

struct world {
    struct actor sellers[SELLERS], buyers[BUYERS], admin;
    json_t *products[SELLERS];
    long long prices[SELLERS];
    struct journey j[JOURNEYS];
    struct payout_model p[PAYOUTS];
    int npayouts;
    unsigned seed;
};

static struct world w;

static bool is(const struct journey *j, const char *s)
{
    return j->status && strcmp(j->status, s) == 0;
}

static long long commission_of(long long total)
{
    return (total * 500 + 5000) / 10000; /* HAAT_COMMISSION_BPS 500, half up */
}

/* ---- steps ----------------------------------------------------------------------------- */

static bool when_new(const struct journey *j)
{
    return j->status == NULL;
}
static bool when_unpaid(const struct journey *j)
{
    return is(j, "pending_payment");
}
static bool when_paid(const struct journey *j)
{
    return is(j, "paid");
}
static bool when_unpaid_or_paid(const struct journey *j)
{
    return when_unpaid(j) || when_paid(j);
}
static bool when_shipped(const struct journey *j)
{
    return is(j, "shipped");
}
static bool when_delivered(const struct journey *j)
{
    return is(j, "delivered") && !j->releasing;
}
static bool when_releasing(const struct journey *j)
{
    return is(j, "delivered") && j->releasing;
}
static bool when_disputed(const struct journey *j)
{
    return is(j, "disputed");
}

static void do_place(struct journey *j)
{
    json_t *o = order_fx_order(&w.buyers[j->buyer], w.products[j->seller], 1);
    snprintf(j->id, sizeof j->id, "%s", fx_str(o, "id"));
    json_decref(o);
    j->total = w.prices[j->seller];
    j->commission = commission_of(j->total);
    j->status = "pending_payment";
}
static void do_pay(struct journey *j)
{
    mf_pay(&w.buyers[j->buyer], j->id, "succeeded");
    j->status = "paid";
}
static void do_pay_fails(struct journey *j)
{
    mf_pay(&w.buyers[j->buyer], j->id, "failed");
}
static void do_cancel_buyer(struct journey *j)
{
    mf_post(&w.buyers[j->buyer], "cancel", j->id, "{\"reason\":\"changed my mind\"}", 200);
    j->status = "cancelled";
}
static void do_cancel_seller(struct journey *j)
{
    mf_post(&w.sellers[j->seller], "cancel", j->id, "{\"reason\":\"out of stock\"}", 200);
    j->status = "cancelled";
}
static void do_ship(struct journey *j)
{
    mf_post(&w.sellers[j->seller], "ship", j->id,
            "{\"carrier\":\"Delhivery\",\"tracking_number\":\"DL123\"}", 200);
    j->status = "shipped";
}
static void do_confirm(struct journey *j)
{
    mf_post(&w.buyers[j->buyer], "confirm-delivery", j->id, NULL, 200);
    j->status = "delivered";
}
static void do_dispute(struct journey *j)
{
    mf_post(&w.buyers[j->buyer], "dispute", j->id, "{\"reason\":\"damaged\"}", 200);
    j->status = "disputed";
}
static void do_hold_passes(struct journey *j)
{
    mf_hold_ends_in(j->id, -1);
    j->releasing = true;
}
static void do_await_release(struct journey *j)
{
    mf_wait_status(j->id, "completed");
    j->releasing = false;
    j->status = "completed";
}
static void resolve(struct journey *j, const char *decision, const char *want)
{
    struct h_resp r = {0};
    char path[160], body[80];
    snprintf(path, sizeof path, "/v1/admin/orders/%s/resolve-dispute", j->id);
    snprintf(body, sizeof body, "{\"decision\":\"%s\",\"note\":\"property\"}", decision);
    fx_call(&w.admin, "POST", path, body, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), want);
    h_resp_cleanup(&r);
    j->status = want;
}
static void do_resolve_refund(struct journey *j)
{
    resolve(j, "refund", "refunded");
}
static void do_resolve_release(struct journey *j)
{
    resolve(j, "release", "completed");
}

/* ---- the sellers' steps ----------------------------------------------------------------- */

/* Seller s's available balance; *could_be: everything that may still become available (in
 * transit may fail back, pending may be released), so a request above it must be refused. */
static long long available_of(int s, long long *could_be)
{
    struct h_resp r = {0};
    fx_call(&w.sellers[s], "GET", "/v1/seller/balance", NULL, NULL, &r);
    h_assert_status(&r, 200);
    long long a = fx_int(r.json, "available_minor");
    *could_be = a + fx_int(r.json, "in_transit_minor") + fx_int(r.json, "pending_minor");
    h_resp_cleanup(&r);
    return a;
}

/* A payout of part of what seller s has available (sometimes one the sandbox fails), or, with
 * less than ₹1 available, a request for more than there is: 409 and nothing changes. */
static void do_payout(int s)
{
    long long could_be = 0, avail = available_of(s, &could_be);
    struct h_resp r = {0};
    char body[64];
    if (avail < 100 || w.npayouts == PAYOUTS) {
        snprintf(body, sizeof body, "{\"amount_minor\":%lld}", could_be + 100);
        payout_call(&w.sellers[s], body, &r);
        h_assert_problem(&r, 409, "insufficient_balance");
        h_resp_cleanup(&r);
        return;
    }
    struct payout_model *m = &w.p[w.npayouts];
    m->seller = s;
    m->amount = 100 + rand_r(&w.seed) % (avail - 99);
    long long fail_at = m->amount / 100 * 100 + 13; /* the nearest ...13 not above amount */
    if (fail_at > m->amount)
        fail_at -= 100;
    m->fails = fail_at >= 113 && rand_r(&w.seed) % 4 == 0;
    if (m->fails)
        m->amount = fail_at;
    else if (m->amount % 100 == 13)
        m->amount++;
    snprintf(body, sizeof body, "{\"amount_minor\":%lld}", m->amount);
    payout_call(&w.sellers[s], body, &r);
    h_assert_status(&r, 201);
    snprintf(m->id, sizeof m->id, "%s", fx_str(r.json, "id"));
    h_resp_cleanup(&r);
    w.npayouts++;
}

/* Reverses one of seller s's payouts that the sandbox has paid, if there is one. */
static void do_reverse(int s)
{
    for (int i = 0; i < w.npayouts; i++) {
        struct payout_model *m = &w.p[i];
        if (m->seller != s || m->fails || m->reversed ||
            fx_count("SELECT count(*) FROM payouts WHERE id = '%s' AND status = 'paid'", m->id) !=
                1)
            continue;
        struct h_resp r = {0};
        char path[96];
        snprintf(path, sizeof path, "/v1/sandbox/payouts/%s/reverse", m->id);
        fx_call(NULL, "POST", path, NULL, NULL, &r);
        h_assert_status(&r, 200);
        h_resp_cleanup(&r);
        m->reversed = true;
        return;
    }
}

/* Every payout ends as the model says once the sandbox has decided them all. */
static void assert_payouts(void)
{
    wait_count(0, "SELECT count(*) FROM payouts WHERE status = 'processing'");
    for (int i = 0; i < w.npayouts; i++) {
        const struct payout_model *m = &w.p[i];
        const char *want = m->fails ? "failed" : m->reversed ? "reversed" : "paid";
        if (fx_count("SELECT count(*) FROM payouts WHERE id = '%s' AND status = '%s'", m->id,
                     want) != 1)
            fail_msg("payout %s of %lld: not %s", m->id, m->amount, want);
    }
}

/* One step of a journey: when it applies, what it does (updating the model), its weight. */
struct step {
    const char *name;
    bool (*applies)(const struct journey *j);
    void (*run)(struct journey *j);
    int weight;
};

static const struct step steps[] = {
    {"place", when_new, do_place, 1},
    {"pay", when_unpaid, do_pay, 6},
    {"pay_fails", when_unpaid, do_pay_fails, 1},
    {"cancel_buyer", when_unpaid_or_paid, do_cancel_buyer, 1},
    {"cancel_seller", when_paid, do_cancel_seller, 1},
    {"ship", when_paid, do_ship, 5},
    {"confirm", when_shipped, do_confirm, 1},
    {"dispute", when_delivered, do_dispute, 1},
    {"hold_passes", when_delivered, do_hold_passes, 2},
    {"await_release", when_releasing, do_await_release, 1},
    {"resolve_refund", when_disputed, do_resolve_refund, 1},
    {"resolve_release", when_disputed, do_resolve_release, 1},
};
#define NSTEPS (sizeof steps / sizeof steps[0])

/* A step that applies to j, chosen by weight; NULL when none (a final status). */
static const struct step *pick(const struct journey *j)
{
    int total = 0;
    for (size_t i = 0; i < NSTEPS; i++)
        total += steps[i].applies(j) ? steps[i].weight : 0;
    if (total == 0)
        return NULL;
    int x = rand_r(&w.seed) % total;
    for (size_t i = 0; i < NSTEPS; i++) {
        if (!steps[i].applies(j))
            continue;
        if (x < steps[i].weight)
            return &steps[i];
        x -= steps[i].weight;
    }
    return NULL;
}

/* ---- the test -------------------------------------------------------------------------- */

static void setup_world(void)
{
    const char *seed = getenv("HAAT_MONEY_SEED");
    w.seed = seed && *seed ? (unsigned)strtoul(seed, NULL, 10) : (unsigned)time(NULL);
    print_message("money property seed %u (HAAT_MONEY_SEED replays it)\n", w.seed);
    for (int i = 0; i < SELLERS; i++) {
        fx_actor(&w.sellers[i], true);
        w.prices[i] = 100 + rand_r(&w.seed) % 500000; /* commission rounding of every kind */
        w.products[i] = mf_product(&w.sellers[i], w.prices[i]);
    }
    for (int i = 0; i < BUYERS; i++)
        fx_actor(&w.buyers[i], false);
    mf_admin(&w.admin);
    for (int i = 0; i < JOURNEYS; i++) {
        w.j[i].seller = rand_r(&w.seed) % SELLERS;
        w.j[i].buyer = rand_r(&w.seed) % BUYERS;
    }
}

static void free_world(void)
{
    for (int i = 0; i < SELLERS; i++) {
        json_decref(w.products[i]);
        fx_actor_free(&w.sellers[i]);
    }
    for (int i = 0; i < BUYERS; i++)
        fx_actor_free(&w.buyers[i]);
    fx_actor_free(&w.admin);
}

/* Each seller's balance as the API shows it equals the model's figures. */
static void assert_balances(void)
{
    for (int s = 0; s < SELLERS; s++) {
        long long pending = 0, released = 0;
        for (int i = 0; i < JOURNEYS; i++) {
            const struct journey *j = &w.j[i];
            if (j->seller != s)
                continue;
            if (is(j, "paid") || is(j, "shipped") || is(j, "delivered") || is(j, "disputed"))
                pending += j->total;
            else if (is(j, "completed"))
                released += j->total - j->commission;
        }
        long long paid_out = 0;
        for (int i = 0; i < w.npayouts; i++)
            if (w.p[i].seller == s && !w.p[i].fails && !w.p[i].reversed)
                paid_out += w.p[i].amount;
        struct h_resp r = {0};
        fx_call(&w.sellers[s], "GET", "/v1/seller/balance", NULL, NULL, &r);
        h_assert_status(&r, 200);
        assert_int_equal(fx_int(r.json, "pending_minor"), pending);
        assert_int_equal(fx_int(r.json, "in_transit_minor"), 0);
        assert_int_equal(fx_int(r.json, "paid_out_minor"), paid_out);
        assert_int_equal(fx_int(r.json, "available_minor") + fx_int(r.json, "in_transit_minor") +
                             fx_int(r.json, "paid_out_minor"),
                         released);
        h_resp_cleanup(&r);
    }
}

static void test_random_journeys(void **state)
{
    (void)state;
    int active[JOURNEYS], n = JOURNEYS, taken = 0;
    setup_world();
    for (int i = 0; i < JOURNEYS; i++)
        active[i] = i;
    while (n > 0) {
        if (rand_r(&w.seed) % 8 == 0) { /* a seller's own step */
            int s = rand_r(&w.seed) % SELLERS;
            if (rand_r(&w.seed) % 4 == 0)
                do_reverse(s);
            else
                do_payout(s);
            taken++;
            mf_assert_owed();
            continue;
        }
        int k = rand_r(&w.seed) % n;
        struct journey *j = &w.j[active[k]];
        const struct step *st = pick(j);
        if (!st) {
            active[k] = active[--n];
            continue;
        }
        st->run(j);
        taken++;
        if (!j->releasing && strcmp(order_status(j->id), j->status) != 0)
            fail_msg("after %s, order %s is %s, the model says %s", st->name, j->id,
                     order_status(j->id), j->status);
        mf_assert_owed();
    }
    long long revenue = 0;
    for (int i = 0; i < JOURNEYS; i++)
        revenue += is(&w.j[i], "completed") ? w.j[i].commission : 0;
    assert_int_equal(fx_count("SELECT -balance_minor FROM ledger_accounts WHERE id = "
                              "'platform:revenue'"),
                     revenue);
    assert_payouts();
    mf_assert_owed();
    assert_balances();
    print_message("%d journeys, %d payouts, %d steps\n", JOURNEYS, w.npayouts, taken);
    free_world();
    lf_assert_ledger_balanced(cat_db_url);
}

static int start(void **state)
{
    (void)state;
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    static const char *const env[] = {MF_HOLD_ENV, "HAAT_COMMISSION_BPS=500",
                                      "HAAT_PAYOUT_RECONCILE_AFTER_S=1", NULL};
    h_server_start(&cat_srv, env);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_journeys),
    };
    return HAAT_RUN_GROUP("money_property", tests, start, fx_stop);
}
