/* Fixtures shared by test_catalog.c and test_catalog_search.c (header-only: each test binary
 * links only its own file and the harness).
 *
 * Actors are users (and sellers) inserted straight into the database with access tokens
 * minted here (HS256 over HAAT_JWT_SECRET with the claims the user module issues: sub, roles,
 * pv, iat, exp), so the catalog can be tested without driving signup, OTP and login. */
#ifndef HAAT_TESTS_INTEGRATION_CATALOG_FIXTURES_H
#define HAAT_TESTS_INTEGRATION_CATALOG_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/integration/harness.h"

static struct h_server cat_srv;
static char cat_db_url[256];
static char cat_db_name[64];

struct actor {
    char id[37];
    char *token;
};

static inline void fx_uuid4(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* n random lowercase letters: a search word no other test uses. */
static inline void fx_word(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('a' + randombytes_uniform(26));
    out[n] = '\0';
}

static inline void fx_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void fx_sql(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = h_db_vexec(cat_db_url, fmt, ap);
    va_end(ap);
    assert_int_equal(rc, 0);
}

/* A scalar query as a number (-1 when NULL / no row). */
static inline long long fx_count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline long long fx_count(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long long n = h_db_vint(cat_db_url, fmt, ap);
    va_end(ap);
    return n;
}

/* A user (buyer) or seller, both addresses verified, with a fresh access token. Free with
 * fx_actor_free. */
static inline void fx_actor(struct actor *a, bool seller)
{
    fx_uuid4(a->id);
    char phone[16];
    snprintf(phone, sizeof phone, "+91%05u%05u", randombytes_uniform(100000),
             randombytes_uniform(100000));
    fx_sql(
        "INSERT INTO users (id, name, email, phone, password_hash, phone_verified_at, "
        "email_verified_at) "
        "VALUES ('%s', 'Test User', '%s@catalog.test', '%s', '$argon2id$v=19$test', now(), now())",
        a->id, a->id, phone);
    if (seller)
        fx_sql("INSERT INTO sellers (user_id, display_name, payout_method, upi_vpa) "
               "VALUES ('%s', 'Test Seller', 'upi', 'seller@okbank')",
               a->id);
    long long now = (long long)time(NULL);
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\"%s],\"pv\":true,\"iat\":%lld,\"exp\":%lld}",
             a->id, seller ? ",\"seller\"" : "", now, now + 600);
    a->token = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    assert_non_null(a->token);
}

static inline void fx_actor_free(struct actor *a)
{
    free(a->token);
    a->token = NULL;
}

/* One request as actor a (NULL: anonymous) with an optional extra header line. r must be
 * zeroed; it is cleaned up first, so one h_resp can be reused. */
static inline long fx_call(const struct actor *a, const char *method, const char *path,
                           const char *body, const char *extra, struct h_resp *r)
{
    char auth[1200];
    const char *hdrs[3] = {0};
    int n = 0;
    if (a) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", a->token);
        hdrs[n++] = auth;
    }
    if (extra)
        hdrs[n++] = extra;
    h_resp_cleanup(r);
    memset(r, 0, sizeof *r);
    return h_request(&cat_srv, method, path, body, hdrs, r);
}

static inline const char *fx_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static inline long long fx_int(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* A product body: the mandatory fields plus what extra (a JSON object text, may be NULL)
 * adds or overrides. New string. */
static inline char *fx_body(const char *title, const char *extra)
{
    json_t *b = json_pack("{s:s,s:s,s:s,s:I,s:s}", "title", title, "category", "electronics",
                          "condition", "used", "price_minor", (json_int_t)150000, "city", "Pune");
    if (extra) {
        json_t *x = json_loads(extra, 0, NULL);
        assert_non_null(x);
        json_object_update(b, x);
        json_decref(x);
    }
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return s;
}

/* Creates a product as seller a (asserting 201); returns the product (new reference). */
static inline json_t *fx_create(const struct actor *a, const char *title, const char *extra)
{
    struct h_resp r = {0};
    char *body = fx_body(title, extra);
    fx_call(a, "POST", "/v1/products", body, NULL, &r);
    free(body);
    h_assert_status(&r, 201);
    json_t *p = json_incref(r.json);
    h_resp_cleanup(&r);
    return p;
}

/* The set of "field" values of a problem's errors[], comma-joined in order, into out. */
static inline void fx_error_fields(const struct h_resp *r, char *out, size_t n)
{
    size_t i, used = 0;
    json_t *e;
    out[0] = '\0';
    json_array_foreach(json_object_get(r->json, "errors"), i, e)
    {
        int w = snprintf(out + used, n - used, "%s%s", i ? "," : "", fx_str(e, "field"));
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

/* Sends body as seller s; expects 422 with exactly the comma-joined error fields want. */
static inline void expect_fields(const struct actor *s, const char *method, const char *path,
                                 const char *body, const char *want)
{
    struct h_resp r = {0};
    char got[512];
    fx_call(s, method, path, body, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_error_fields(&r, got, sizeof got);
    if (strcmp(got, want) != 0) {
        h_resp_print(&r);
        fail_msg("body %s: errors [%s], want [%s]", body, got, want);
    }
    h_resp_cleanup(&r);
}

static inline long long events(const char *type, const char *id)
{
    return fx_count("SELECT count(*) FROM outbox_events WHERE type = '%s' AND aggregate_id = '%s'",
                    type, id);
}

/* Starts the shared server on a fresh database (kept in cat_db_url for direct SQL). */
static inline int fx_start(void **state)
{
    (void)state;
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    h_server_start(&cat_srv, NULL);
    return 0;
}

static inline int fx_stop(void **state)
{
    (void)state;
    h_server_cleanup(&cat_srv);
    h_db_drop(cat_db_name);
    return 0;
}

#endif
