/* Fixtures of the user tests (test_user_*.c): see user_fixtures.h. */
#include "tests/integration/user_fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

void uf_new_ident(struct uf_ident *u)
{
    static unsigned n;
    memset(u, 0, sizeof *u);
    unsigned r = randombytes_uniform(90000000) + 10000000; /* 8 digits */
    snprintf(u->email, sizeof u->email, "user%u.%u.%u@Example.COM", (unsigned)getpid(), ++n, r);
    snprintf(u->phone, sizeof u->phone, "+9197%08u", (r + n) % 100000000);
}

const char *uf_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

void uf_sql(const struct h_server *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = h_db_vexec(s->db_url, fmt, ap);
    va_end(ap);
    assert_int_equal(rc, 0);
}

char *uf_scalar(const struct h_server *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = h_db_vscalar(s->db_url, fmt, ap);
    va_end(ap);
    return v;
}

void uf_age_sends(const struct h_server *s)
{
    uf_sql(s, "UPDATE otp_sends SET sent_at = sent_at - interval '31 seconds'");
}

long uf_post(const struct h_server *s, const char *path, const char *token, struct h_resp *r,
             const char *fmt, ...)
{
    char body[4096], auth[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    const char *headers[2] = {NULL, NULL};
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers[0] = auth;
    }
    h_resp_cleanup(r);
    return h_request(s, "POST", path, body, headers, r);
}

long uf_call(const struct h_server *s, const char *method, const char *path, const char *token,
             const char *body, struct h_resp *r)
{
    char auth[2048];
    const char *headers[2] = {NULL, NULL};
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers[0] = auth;
    }
    h_resp_cleanup(r);
    return h_request(s, method, path, body, headers, r);
}

/* The 6-digit run in text (not part of a longer number), or "" when none. */
static void find_code(const char *text, char out[8])
{
    out[0] = '\0';
    for (const char *p = text; p && *p; p++) {
        if (*p < '0' || *p > '9' || (p > text && p[-1] >= '0' && p[-1] <= '9'))
            continue;
        size_t n = strspn(p, "0123456789");
        if (n == 6) {
            memcpy(out, p, 6);
            out[6] = '\0';
            return;
        }
    }
}

/* The otp.requested messages to `to` in the channel's log file, in order, one per
 * notification_id (delivery is at least once: a repeated line is the same message). New
 * reference: an array of the log lines. */
static json_t *otp_messages(const struct h_server *s, const char *file, const char *to)
{
    json_t *lines = h_jsonl_read(h_server_notify_file(s, file));
    json_t *out = json_array(), *ids = json_object();
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        const char *ev = uf_str(l, "event"), *dest = uf_str(l, "to"),
                   *id = uf_str(l, "notification_id");
        if (!ev || !dest || !id || strcmp(ev, "otp.requested") != 0 || strcmp(dest, to) != 0 ||
            json_object_get(ids, id))
            continue;
        json_object_set_new(ids, id, json_true());
        json_array_append(out, l);
    }
    json_decref(ids);
    json_decref(lines);
    return out;
}

void uf_wait_code(const struct h_server *s, const char *file, const char *to, int nth, char out[8])
{
    long long deadline = h_now_ms() + UF_CODE_TIMEOUT_MS;
    for (;;) {
        json_t *msgs = otp_messages(s, file, to);
        out[0] = '\0';
        if (json_array_size(msgs) >= (size_t)nth)
            find_code(uf_str(json_array_get(msgs, (size_t)nth - 1), "body"), out);
        json_decref(msgs);
        if (out[0])
            return;
        if (h_now_ms() > deadline)
            fail_msg("no code #%d for %s in %s after %d ms", nth, to, file, UF_CODE_TIMEOUT_MS);
        h_sleep_ms(50);
    }
}

int uf_codes_sent(const struct h_server *s, const char *file, const char *to)
{
    json_t *msgs = otp_messages(s, file, to);
    int n = (int)json_array_size(msgs);
    json_decref(msgs);
    return n;
}

static void lower(char *p)
{
    for (; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
}

void uf_signup(const struct h_server *s, struct uf_ident *u)
{
    struct h_resp r = {0};
    uf_post(s, "/v1/auth/signup", NULL, &r,
            "{\"name\":\"Test User\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" UF_PASSWORD
            "\"}",
            u->email, u->phone);
    h_assert_status(&r, 201);
    json_t *user = json_object_get(r.json, "user");
    snprintf(u->id, sizeof u->id, "%s", uf_str(user, "id"));
    lower(u->email);
    assert_string_equal(uf_str(user, "email"), u->email);
    assert_string_equal(uf_str(user, "phone"), u->phone);
    uf_wait_code(s, "sms.jsonl", u->phone, 1, u->code_sms);
    uf_wait_code(s, "email.jsonl", u->email, 1, u->code_email);
    h_resp_cleanup(&r);
}

long uf_verify(const struct h_server *s, const struct uf_ident *u, const char *channel,
               const char *code, const char *purpose, struct h_resp *r)
{
    return uf_post(s, "/v1/auth/otp/verify", NULL, r,
                   "{\"channel\":\"%s\",\"destination\":\"%s\",\"code\":\"%s\",\"purpose\":\"%s\"}",
                   channel, strcmp(channel, "sms") == 0 ? u->phone : u->email, code, purpose);
}

void uf_verify_phone(const struct h_server *s, const struct uf_ident *u)
{
    struct h_resp r = {0};
    uf_verify(s, u, "sms", u->code_sms, "verify", &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
}

long uf_login(const struct h_server *s, const char *who, const char *password, struct h_resp *r)
{
    return uf_post(s, "/v1/auth/login", NULL, r, "{\"login\":\"%s\",\"password\":\"%s\"}", who,
                   password);
}

void uf_ready_user(const struct h_server *s, struct uf_ident *u, json_t **pair)
{
    struct h_resp r = {0};
    uf_new_ident(u);
    uf_signup(s, u);
    uf_verify_phone(s, u);
    uf_login(s, u->email, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    *pair = json_incref(r.json);
    h_resp_cleanup(&r);
}

bool uf_has_role(const json_t *user, const char *role)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(user, "roles"), i, v)
    {
        if (strcmp(json_string_value(v), role) == 0)
            return true;
    }
    return false;
}

bool uf_error_for(const struct h_resp *r, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r->json, "errors"), i, e)
    {
        if (strcmp(uf_str(e, "field"), field) == 0)
            return true;
    }
    return false;
}

void uf_assert_user_object(const json_t *u)
{
    static const char *const keys[] = {
        "id", "name", "email", "phone", "email_verified", "phone_verified", "roles", "created_at"};
    assert_true(json_is_object(u));
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_object_get(u, keys[i]))
            fail_msg("user object lacks %s", keys[i]);
    assert_null(json_object_get(u, "password_hash"));
    assert_true(strlen(uf_str(u, "created_at")) == 20 && uf_str(u, "created_at")[19] == 'Z');
}

int uf_retry_after(const struct h_resp *r)
{
    const char *v = h_resp_header(r, "Retry-After");
    return v ? atoi(v) : -1;
}
