/* Unit tests of pkg/crypto: JWT HS256 (and every way a token must be refused), sealing,
 * hashes, randomness, passwords and the bounded password pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>

#include "pkg/crypto/sec.h"
#include "tests/test_main.h"

#define SECRET   "unit-test-secret-0123456789abcdef-0123456789"
#define SECRET_2 "another-secret-for-the-wrong-key-tests-0123456"
#define NOW      1800000000LL

static int setup(void **state)
{
    (void)state;
    return sec_init(SECRET);
}

static int teardown(void **state)
{
    (void)state;
    sec_cleanup();
    return 0;
}

/* --- helpers ------------------------------------------------------------------------------ */

static char *b64url(const void *bin, size_t n)
{
    size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *s = malloc(len);
    sodium_bin2base64(s, len, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return s;
}

/* A token with any header and payload text, HS256-signed with key (NULL: empty signature). */
static char *forge(const char *header, const char *payload, const char *key)
{
    char *h = b64url(header, strlen(header));
    char *p = b64url(payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 2;
    char *signing = malloc(n);
    snprintf(signing, n, "%s.%s", h, p);
    char *sig = strdup("");
    if (key) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)signing, strlen(signing));
        crypto_auth_hmacsha256_final(&st, mac);
        free(sig);
        sig = b64url(mac, sizeof mac);
    }
    size_t tn = strlen(signing) + strlen(sig) + 2;
    char *token = malloc(tn);
    snprintf(token, tn, "%s.%s", signing, sig);
    free(h);
    free(p);
    free(signing);
    free(sig);
    return token;
}

static int verify(const char *token)
{
    json_t *claims = NULL;
    int rc = sec_jwt_verify(token, NOW, &claims);
    if (rc == 0)
        assert_non_null(claims);
    else
        assert_null(claims);
    json_decref(claims);
    return rc;
}

static const char good_claims[] = "{\"sub\":\"u1\",\"exp\":1800000900,\"iat\":1800000000}";
static const char hs256[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* --- init --------------------------------------------------------------------------------- */

static void test_init_refuses_short_secret(void **state)
{
    assert_int_equal(sec_init("short"), -1);
    assert_int_equal(sec_init(NULL), -1);
    assert_int_equal(sec_init("0123456789012345678901234567890"), -1); /* 31 bytes */
    assert_int_equal(sec_init("01234567890123456789012345678901"), 0); /* 32 bytes */
    assert_int_equal(sec_init(SECRET), 0);
}

/* --- JWT ---------------------------------------------------------------------------------- */

static void test_jwt_roundtrip(void **state)
{
    json_t *claims =
        json_pack("{s:s,s:[s,s],s:b,s:I,s:I}", "sub", "abc", "roles", "buyer", "seller", "pv", 1,
                  "iat", (json_int_t)NOW, "exp", (json_int_t)(NOW + 900));
    char *token = sec_jwt_sign(claims);
    assert_non_null(token);
    assert_int_equal(strncmp(token, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37), 0);
    json_t *out = NULL;
    assert_int_equal(sec_jwt_verify(token, NOW, &out), 0);
    assert_true(json_equal(out, claims));
    json_decref(out);
    json_decref(claims);
    free(token);
}

static void test_jwt_matches_independent_hs256(void **state)
{
    /* A token made here with libsodium directly and the same key is accepted: the key really
     * is the bytes of the secret (as the contract says), so other tools can verify our tokens. */
    char *t = forge(hs256, good_claims, SECRET);
    assert_int_equal(verify(t), 0);
    free(t);
    char *t2 = forge("{\"alg\":\"HS256\"}", good_claims, SECRET); /* typ is optional */
    assert_int_equal(verify(t2), 0);
    free(t2);
}

static void test_jwt_expired(void **state)
{
    char *at = forge(hs256, "{\"exp\":1800000000}", SECRET); /* exp == now: expired */
    char *past = forge(hs256, "{\"exp\":1799999999}", SECRET);
    char *next = forge(hs256, "{\"exp\":1800000001}", SECRET);
    assert_int_equal(verify(at), -1);
    assert_int_equal(verify(past), -1);
    assert_int_equal(verify(next), 0);
    free(at);
    free(past);
    free(next);
}

static void test_jwt_missing_or_bad_exp(void **state)
{
    static const char *const payloads[] = {
        "{\"sub\":\"u1\"}",
        "{\"exp\":\"1800000900\"}",
        "{\"exp\":1800000900.5}",
        "{\"exp\":null}",
        "{\"exp\":true}",
        "[1800000900]",
        "\"not an object\"",
        "{\"exp\":1800000900",
        "",
        "{\"exp\":1,\"exp\":1900000000}", /* duplicate member: refused outright */
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char *t = forge(hs256, payloads[i], SECRET);
        if (verify(t) != -1)
            fail_msg("accepted payload %s", payloads[i]);
        free(t);
    }
}

static void test_jwt_nbf(void **state)
{
    char *future = forge(hs256, "{\"exp\":1800000900,\"nbf\":1800000001}", SECRET);
    char *now = forge(hs256, "{\"exp\":1800000900,\"nbf\":1800000000}", SECRET);
    assert_int_equal(verify(future), -1);
    assert_int_equal(verify(now), 0);
    free(future);
    free(now);
}

static void test_jwt_tampered_payload(void **state)
{
    json_t *claims = json_pack("{s:s,s:I}", "sub", "user-a", "exp", (json_int_t)(NOW + 900));
    char *token = sec_jwt_sign(claims);
    json_decref(claims);
    /* Swap the payload for another validly encoded one, keeping header and signature. */
    char *other = forge(hs256, "{\"sub\":\"user-b\",\"exp\":1800000900}", NULL);
    char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');
    char *odot1 = strchr(other, '.'), *odot2 = strrchr(other, '.');
    char spliced[1024];
    snprintf(spliced, sizeof spliced, "%.*s.%.*s%s", (int)(dot1 - token), token,
             (int)(odot2 - odot1 - 1), odot1 + 1, dot2);
    assert_int_equal(verify(spliced), -1);
    /* Flip every payload character in turn. */
    for (char *p = dot1 + 1; p < dot2; p++) {
        char saved = *p;
        *p = *p == 'A' ? 'B' : 'A';
        if (verify(token) != -1)
            fail_msg("accepted a payload changed at offset %td", p - token);
        *p = saved;
    }
    assert_int_equal(verify(token), 0);
    free(token);
    free(other);
}

static void test_jwt_tampered_signature(void **state)
{
    char *t = forge(hs256, good_claims, SECRET);
    char *sig = strrchr(t, '.') + 1;
    size_t n = strlen(sig);
    for (size_t i = 0; i < n; i++) {
        char saved = sig[i];
        sig[i] = saved == 'A' ? 'B' : 'A';
        if (verify(t) != -1)
            fail_msg("accepted a signature changed at %zu", i);
        sig[i] = saved;
    }
    sig[n - 1] = '\0'; /* truncated */
    assert_int_equal(verify(t), -1);
    free(t);
    char *empty = forge(hs256, good_claims, NULL); /* "header.payload." */
    assert_int_equal(verify(empty), -1);
    free(empty);
}

static void test_jwt_alg_none_and_others(void **state)
{
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS384\"}",
        "{\"alg\":\"RS256\"}",
        "{\"alg\":\"hs256\"}",
        "{\"alg\":\"HS256 \"}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
        "{\"alg\":\"HS256\",\"typ\":\"JOSE+JSON\"}",
        "{\"alg\":\"HS256\",\"typ\":1}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"alg\":\"none\"}",
        "{\"alg\":\"none\",\"alg\":\"HS256\"}",
        "[\"HS256\"]",
        "not json",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        /* Correctly signed with our key: only the header is wrong. */
        char *signed_ok = forge(headers[i], good_claims, SECRET);
        char *unsigned_ = forge(headers[i], good_claims, NULL);
        if (verify(signed_ok) != -1 || verify(unsigned_) != -1)
            fail_msg("accepted header %s", headers[i]);
        free(signed_ok);
        free(unsigned_);
    }
}

static void test_jwt_wrong_key(void **state)
{
    char *t = forge(hs256, good_claims, SECRET_2);
    assert_int_equal(verify(t), -1);
    free(t);
    /* And tokens we signed stop verifying under another secret. */
    json_t *claims = json_pack("{s:I}", "exp", (json_int_t)(NOW + 60));
    char *ours = sec_jwt_sign(claims);
    assert_int_equal(verify(ours), 0);
    assert_int_equal(sec_init(SECRET_2), 0);
    assert_int_equal(verify(ours), -1);
    assert_int_equal(sec_init(SECRET), 0);
    assert_int_equal(verify(ours), 0);
    json_decref(claims);
    free(ours);
}

static void test_jwt_malformed_base64_and_shape(void **state)
{
    char *t = forge(hs256, good_claims, SECRET);
    size_t n = strlen(t);
    char buf[2048];
    assert_int_equal(verify(t), 0);
    /* '=' padding, standard-alphabet characters, whitespace, a NUL-free junk byte. */
    static const char *const inserts[] = {"=", "+", "/", " ", "\n", "*", "%"};
    char *dot1 = strchr(t, '.');
    size_t at = (size_t)(dot1 - t);
    for (size_t i = 0; i < sizeof inserts / sizeof inserts[0]; i++) {
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)at, t, inserts[i], t + at);
        if (verify(buf) != -1)
            fail_msg("accepted header with %s", inserts[i]);
        snprintf(buf, sizeof buf, "%s%s", t, inserts[i]);
        if (verify(buf) != -1)
            fail_msg("accepted signature with %s", inserts[i]);
    }
    /* A segment of length 4k+1 cannot be base64. */
    snprintf(buf, sizeof buf, "%.*sA%s", (int)at, t, t + at);
    assert_int_equal(verify(buf), -1);
    /* Non-canonical trailing bits: the last signature character changed within its group. */
    strcpy(buf, t);
    char *last = buf + n - 1;
    *last = (char)(*last ^ 1);
    assert_int_equal(verify(buf), -1);
    /* Shapes. */
    static const char *const shapes[] = {"", ".", "..", "...", "a.b", "a.b.c.d", "abc"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        assert_int_equal(verify(shapes[i]), -1);
    snprintf(buf, sizeof buf, "%s.", t); /* four segments */
    assert_int_equal(verify(buf), -1);
    snprintf(buf, sizeof buf, ".%s", t);
    assert_int_equal(verify(buf), -1);
    json_t *claims = NULL;
    assert_int_equal(sec_jwt_verify(NULL, NOW, &claims), -1);
    assert_null(claims);
    free(t);
}

static void test_jwt_oversized(void **state)
{
    size_t n = SEC_JWT_MAX + 100;
    char *claims_text = malloc(n + 64);
    snprintf(claims_text, n + 64, "{\"exp\":1800000900,\"pad\":\"%0*d\"}", (int)n, 0);
    char *t = forge(hs256, claims_text, SECRET);
    assert_true(strlen(t) > SEC_JWT_MAX);
    assert_int_equal(verify(t), -1);
    free(t);
    free(claims_text);
}

static void test_jwt_sign_refuses_non_object(void **state)
{
    json_t *a = json_array();
    assert_null(sec_jwt_sign(a));
    assert_null(sec_jwt_sign(NULL));
    json_decref(a);
}

/* --- seal / open -------------------------------------------------------------------------- */

static void test_seal_roundtrip(void **state)
{
    static const char *const texts[] = {"123456", "", "a longer text with ünïcode and spaces"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *s = sec_seal(texts[i]);
        assert_non_null(s);
        for (const char *p = s; *p; p++)
            assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                               *p) != NULL);
        assert_null(strstr(s, texts[i][0] ? texts[i] : "\x01"));
        char *o = sec_open(s);
        assert_non_null(o);
        assert_string_equal(o, texts[i]);
        free(s);
        free(o);
    }
}

static void test_seal_is_randomised(void **state)
{
    char *a = sec_seal("123456"), *b = sec_seal("123456");
    assert_string_not_equal(a, b);
    free(a);
    free(b);
}

static void test_open_refuses_tampering(void **state)
{
    char *s = sec_seal("654321");
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        char saved = s[i];
        s[i] = saved == 'A' ? 'B' : 'A';
        char *o = sec_open(s);
        if (o)
            fail_msg("opened a seal changed at %zu: %s", i, o);
        s[i] = saved;
    }
    char *ok = sec_open(s);
    assert_string_equal(ok, "654321");
    free(ok);
    s[n - 3] = '\0'; /* truncated */
    assert_null(sec_open(s));
    assert_null(sec_open(""));
    assert_null(sec_open("AAAA"));
    assert_null(sec_open("not base64!"));
    assert_null(sec_open(NULL));
    free(s);
}

static void test_open_refuses_other_key(void **state)
{
    char *s = sec_seal("111222");
    assert_int_equal(sec_init(SECRET_2), 0);
    assert_null(sec_open(s));
    assert_int_equal(sec_init(SECRET), 0);
    char *o = sec_open(s);
    assert_string_equal(o, "111222");
    free(o);
    free(s);
}

/* --- hashes, MACs, randomness ------------------------------------------------------------- */

static void test_hash_token_sha256(void **state)
{
    char h[SEC_HEX_LEN];
    sec_hash_token("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sec_hash_token("", h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_mac_keyed_and_domain_separated(void **state)
{
    char a[SEC_HEX_LEN], b[SEC_HEX_LEN], c[SEC_HEX_LEN], d[SEC_HEX_LEN];
    sec_mac_hex("d1", "msg", a);
    sec_mac_hex("d1", "msg", b);
    assert_string_equal(a, b);
    sec_mac_hex("d2", "msg", c);
    assert_string_not_equal(a, c);
    sec_mac_hex("d1", "msh", c);
    assert_string_not_equal(a, c);
    sec_mac_hex("d1m", "sg", c); /* the separator keeps domain and message apart */
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(sec_init(SECRET_2), 0);
    sec_mac_hex("d1", "msg", d);
    assert_string_not_equal(a, d); /* server-keyed */
    assert_int_equal(sec_init(SECRET), 0);
}

static void test_random_token(void **state)
{
    char a[SEC_TOKEN_LEN(32)], b[SEC_TOKEN_LEN(32)];
    sec_random_token(a, 32);
    sec_random_token(b, 32);
    assert_int_equal(strlen(a), 43);
    assert_string_not_equal(a, b);
    for (const char *p = a; *p; p++)
        assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    char big[SEC_TOKEN_LEN(100)];
    sec_random_token(big, 100);
    assert_int_equal(strlen(big), 134);
}

static void test_random_digits_distribution(void **state)
{
    enum { N = 60000 };
    long counts[10] = {0};
    char d[7];
    for (int i = 0; i < N / 6; i++) {
        sec_random_digits(d, 6);
        assert_int_equal(strlen(d), 6);
        for (int j = 0; j < 6; j++) {
            assert_true(d[j] >= '0' && d[j] <= '9');
            counts[d[j] - '0']++;
        }
    }
    /* Chi-square with 9 degrees of freedom: 27.88 is the 0.999 quantile. */
    double chi = 0, expected = N / 10.0;
    for (int i = 0; i < 10; i++)
        chi += (counts[i] - expected) * (counts[i] - expected) / expected;
    assert_true(chi < 27.88);
}

static void test_streq(void **state)
{
    assert_true(sec_streq("abc", "abc"));
    assert_true(sec_streq("", ""));
    assert_false(sec_streq("abc", "abd"));
    assert_false(sec_streq("abc", "abcd"));
}

/* --- passwords ---------------------------------------------------------------------------- */

static void test_password_hash_verify(void **state)
{
    char h[SEC_PWHASH_LEN], h2[SEC_PWHASH_LEN];
    assert_int_equal(sec_password_hash("correct horse battery", h), 0);
    assert_int_equal(strncmp(h, "$argon2id$", 10), 0);
    assert_non_null(strstr(h, "m=65536")); /* INTERACTIVE: 64 MiB */
    assert_int_equal(sec_password_verify(h, "correct horse battery"), 0);
    assert_int_equal(sec_password_verify(h, "correct horse batterY"), -1);
    assert_int_equal(sec_password_verify(h, ""), -1);
    assert_false(sec_password_needs_rehash(h));
    assert_int_equal(sec_password_hash("correct horse battery", h2), 0);
    assert_string_not_equal(h, h2); /* salted */
    assert_int_equal(sec_password_verify("$argon2id$garbage", "x"), -1);
    assert_int_equal(sec_password_verify(NULL, "x"), -1);
    assert_true(sec_password_needs_rehash("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaA"));
}

static void test_password_dummy_hash(void **state)
{
    const char *d = sec_password_dummy_hash();
    assert_int_equal(strncmp(d, "$argon2id$", 10), 0);
    assert_ptr_equal(d, sec_password_dummy_hash()); /* made once */
    assert_int_equal(sec_password_verify(d, ""), -1);
    assert_int_equal(sec_password_verify(d, "password"), -1);
    assert_false(sec_password_needs_rehash(d)); /* same cost as a real one */
}

/* --- the pool ----------------------------------------------------------------------------- */

static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int done_count;

struct tjob {
    struct sec_pwjob job;
    int calls;
};

static void on_done(struct sec_pwjob *j)
{
    struct tjob *t = (struct tjob *)j;
    pthread_mutex_lock(&done_mu);
    t->calls++;
    done_count++;
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&done_mu);
}

static void wait_done(int n)
{
    pthread_mutex_lock(&done_mu);
    while (done_count < n)
        pthread_cond_wait(&done_cv, &done_mu);
    pthread_mutex_unlock(&done_mu);
}

static void test_pool_runs_jobs(void **state)
{
    char stored[SEC_PWHASH_LEN];
    assert_int_equal(sec_password_hash("pool password 1", stored), 0);
    assert_int_equal(sec_pwpool_start(2, 8), 0);
    assert_int_equal(sec_pwpool_start(2, 8), -1); /* already running */
    struct tjob jobs[4] = {
        {{.op = SEC_PW_HASH, .password = "pool password 1", .done = on_done}, 0},
        {{.op = SEC_PW_VERIFY, .password = "pool password 1", .hash = stored, .done = on_done}, 0},
        {{.op = SEC_PW_VERIFY, .password = "wrong", .hash = stored, .done = on_done}, 0},
        {{.op = SEC_PW_VERIFY, .password = "pool password 1", .hash = NULL, .done = on_done}, 0},
    };
    done_count = 0;
    for (int i = 0; i < 4; i++)
        assert_int_equal(sec_pwpool_submit(&jobs[i].job), 0);
    wait_done(4);
    sec_pwpool_stop();
    for (int i = 0; i < 4; i++)
        assert_int_equal(jobs[i].calls, 1);
    assert_int_equal(jobs[0].job.result, SEC_PW_OK);
    assert_int_equal(sec_password_verify(jobs[0].job.out, "pool password 1"), 0);
    assert_int_equal(jobs[1].job.result, SEC_PW_OK);
    assert_int_equal(jobs[2].job.result, SEC_PW_MISMATCH);
    assert_int_equal(jobs[3].job.result, SEC_PW_MISMATCH); /* unknown user: dummy hash */
    assert_int_equal(sec_pwpool_submit(&jobs[0].job), -1); /* stopped */
}

static void test_pool_bounded_queue(void **state)
{
    enum { N = 6 };
    struct tjob jobs[N];
    int accepted = 0;
    assert_int_equal(sec_pwpool_start(1, 1), 0);
    done_count = 0;
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct tjob){{.op = SEC_PW_HASH, .password = "bounded", .done = on_done}, 0};
        if (sec_pwpool_submit(&jobs[i].job) == 0)
            accepted++;
    }
    /* One running plus one waiting at most: the rest is refused at once. */
    assert_true(accepted >= 1 && accepted <= 2);
    assert_true(sec_pwpool_queued() <= 1);
    wait_done(accepted);
    sec_pwpool_stop();
    for (int i = 0; i < N; i++)
        assert_true(jobs[i].calls <= 1);
    assert_int_equal(done_count, accepted);
}

static void test_pool_stop_cancels_queued(void **state)
{
    enum { N = 5 };
    struct tjob jobs[N];
    assert_int_equal(sec_pwpool_start(1, 16), 0);
    done_count = 0;
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct tjob){{.op = SEC_PW_HASH, .password = "cancel me", .done = on_done}, 0};
        assert_int_equal(sec_pwpool_submit(&jobs[i].job), 0);
    }
    sec_pwpool_stop(); /* returns after every done() ran */
    assert_int_equal(done_count, N);
    int cancelled = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(jobs[i].calls, 1);
        if (jobs[i].job.result == SEC_PW_CANCELLED)
            cancelled++;
        else
            assert_int_equal(jobs[i].job.result, SEC_PW_OK);
    }
    assert_true(cancelled >= N - 1); /* at most the one already running completed */
    sec_pwpool_stop();               /* idempotent */
    assert_int_equal(sec_pwpool_start(0, 1), -1);
    assert_int_equal(sec_pwpool_start(1, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_refuses_short_secret),
        cmocka_unit_test(test_jwt_roundtrip),
        cmocka_unit_test(test_jwt_matches_independent_hs256),
        cmocka_unit_test(test_jwt_expired),
        cmocka_unit_test(test_jwt_missing_or_bad_exp),
        cmocka_unit_test(test_jwt_nbf),
        cmocka_unit_test(test_jwt_tampered_payload),
        cmocka_unit_test(test_jwt_tampered_signature),
        cmocka_unit_test(test_jwt_alg_none_and_others),
        cmocka_unit_test(test_jwt_wrong_key),
        cmocka_unit_test(test_jwt_malformed_base64_and_shape),
        cmocka_unit_test(test_jwt_oversized),
        cmocka_unit_test(test_jwt_sign_refuses_non_object),
        cmocka_unit_test(test_seal_roundtrip),
        cmocka_unit_test(test_seal_is_randomised),
        cmocka_unit_test(test_open_refuses_tampering),
        cmocka_unit_test(test_open_refuses_other_key),
        cmocka_unit_test(test_hash_token_sha256),
        cmocka_unit_test(test_mac_keyed_and_domain_separated),
        cmocka_unit_test(test_random_token),
        cmocka_unit_test(test_random_digits_distribution),
        cmocka_unit_test(test_streq),
        cmocka_unit_test(test_password_hash_verify),
        cmocka_unit_test(test_password_dummy_hash),
        cmocka_unit_test(test_pool_runs_jobs),
        cmocka_unit_test(test_pool_bounded_queue),
        cmocka_unit_test(test_pool_stop_cancels_queued),
    };
    return HAAT_RUN_GROUP("sec", tests, setup, teardown);
}
