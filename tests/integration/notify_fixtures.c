/* Fixtures of the notification tests (test_notify_*.c): see notify_fixtures.h. */
#include "tests/integration/notify_fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sodium.h>

void nf_provider_env(char buf[10][256], const char *env[16], const struct h_sink *mail,
                     const struct h_sink *text, const char *extra1, const char *extra2)
{
    snprintf(buf[0], 256, "HAAT_EMAIL_PROVIDER=smtp");
    snprintf(buf[1], 256, "HAAT_SMTP_URL=%s", mail->url);
    snprintf(buf[2], 256, "HAAT_SMTP_TLS=none");
    snprintf(buf[3], 256, "HAAT_SMTP_FROM=haat <" NF_MAIL_FROM_ADDR ">");
    snprintf(buf[4], 256, "HAAT_SMS_PROVIDER=twilio");
    snprintf(buf[5], 256, "HAAT_TWILIO_BASE_URL=%s", text->url);
    snprintf(buf[6], 256, "HAAT_TWILIO_ACCOUNT_SID=" NF_SID);
    snprintf(buf[7], 256, "HAAT_TWILIO_AUTH_TOKEN=" NF_TOKEN);
    snprintf(buf[8], 256, "HAAT_TWILIO_FROM=" NF_SMS_FROM);
    snprintf(buf[9], 256, "HAAT_PUBLIC_URL=https://haat.test");
    int n = 0;
    for (; n < 10; n++)
        env[n] = buf[n];
    if (extra1)
        env[n++] = extra1;
    if (extra2)
        env[n++] = extra2;
    env[n] = NULL;
}

void nf_start(struct h_server *s, struct h_sink *mail, struct h_sink *text)
{
    h_smtp_sink_start(mail);
    h_http_capture_start(text);
    char buf[10][256];
    const char *env[16];
    nf_provider_env(buf, env, mail, text, NULL, NULL);
    h_server_start(s, env);
}

void nf_stop(struct h_server *s, struct h_sink *mail, struct h_sink *text)
{
    h_server_cleanup(s);
    h_sink_stop(mail);
    h_sink_stop(text);
}

void nf_signup_unverified(const struct h_server *s, struct nf_user *u, const char *name)
{
    static unsigned seq;
    unsigned n = ++seq;
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->email, sizeof u->email, "u%d-%u-%u@example.com", (int)getpid(), n,
             randombytes_uniform(1000000));
    snprintf(u->phone, sizeof u->phone, "+9198%08u", randombytes_uniform(100000000));
    char *body = NULL;
    json_t *b = json_pack("{s:s,s:s,s:s,s:s}", "name", name, "email", u->email, "phone", u->phone,
                          "password", "correct horse battery staple");
    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    struct h_resp r = {0};
    h_request(s, "POST", "/v1/auth/signup", body, NULL, &r);
    h_assert_status(&r, 201);
    snprintf(u->id, sizeof u->id, "%s",
             json_string_value(json_object_get(json_object_get(r.json, "user"), "id")));
    assert_int_equal(strlen(u->id), 36);
    h_resp_cleanup(&r);
    free(body);
}

void nf_signup(const struct h_server *s, struct nf_user *u, const char *name)
{
    nf_signup_unverified(s, u, name);
    /* Messages other than codes go to verified addresses only: once the signup's events are
     * fanned out (codes only, to unverified addresses), both are marked verified, as if the
     * codes had been entered. */
    long long deadline = h_now_ms() + 10000;
    while (nf_db_int(s->db_url,
                     "SELECT count(*) FROM outbox_events WHERE aggregate_id = '%s' "
                     "AND processed_at IS NULL",
                     u->id) != 0) {
        if (h_now_ms() > deadline)
            fail_msg("the signup's events of %s were not fanned out", u->id);
        h_sleep_ms(20);
    }
    char *sql = NULL;
    assert_true(asprintf(&sql,
                         "UPDATE users SET email_verified_at = now(), phone_verified_at = "
                         "now() WHERE id = '%s'",
                         u->id) > 0);
    assert_int_equal(h_db_exec(s->db_url, sql), 0);
    free(sql);
}

/* "Authorization: Bearer <forged access token for user_id>" (signed with the test secret,
 * exactly as the server signs them). Caller frees. */
static char *auth_header(const char *user_id)
{
    long long now = (long long)time(NULL);
    char claims[256];
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\"],\"pv\":true,\"iat\":%lld,\"exp\":%lld}",
             user_id, now, now + 600);
    char *jwt = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    char *h = NULL;
    assert_true(asprintf(&h, "Authorization: Bearer %s", jwt) > 0);
    free(jwt);
    return h;
}

long nf_api(const struct h_server *s, const char *method, const char *path, const char *user_id,
            const char *body, struct h_resp *r)
{
    char *auth = user_id ? auth_header(user_id) : NULL;
    const char *headers[] = {auth, NULL};
    long st = h_request(s, method, path, body, auth ? headers : NULL, r);
    free(auth);
    return st;
}

void nf_emit_at(const char *db_url, const char *type, const char *payload, char out[37])
{
    PGconn *pg = PQconnectdb(db_url);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, "BEGIN");
    PQclear(res);
    const char *params[] = {type, payload};
    res = PQexecParams(pg,
                       "WITH e AS (INSERT INTO outbox_events (event_id, type, payload) "
                       "VALUES (gen_random_uuid(), $1, $2::jsonb) RETURNING event_id, type) "
                       "SELECT event_id, pg_notify('haat_outbox', type) FROM e",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("emit %s: %s", type, PQerrorMessage(pg));
    if (out)
        snprintf(out, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    res = PQexec(pg, "COMMIT");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(pg);
}

long long nf_db_int(const char *url, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long long n = h_db_vint(url, fmt, ap);
    va_end(ap);
    return n;
}

const char *nf_member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

size_t nf_count_sms(const json_t *all, const char *to, const char *needle)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const json_t *form = json_object_get(e, "form");
        const char *body = nf_member(form, "Body");
        if (body && (!to || strcmp(nf_member(form, "To") ? nf_member(form, "To") : "", to) == 0) &&
            (!needle || strstr(body, needle)))
            n++;
    }
    return n;
}

json_t *nf_wait_sms(const struct h_sink *k, const char *to, const char *needle, size_t want,
                    int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        json_t *all = h_jsonl_read(k->out);
        if (nf_count_sms(all, to, needle) >= want || h_now_ms() > deadline)
            return all;
        json_decref(all);
        h_sleep_ms(10);
    }
}

const json_t *nf_find_sms(const json_t *all, const char *to, const char *needle)
{
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const json_t *form = json_object_get(e, "form");
        const char *body = nf_member(form, "Body"), *t = nf_member(form, "To");
        if (body && t && strcmp(t, to) == 0 && (!needle || strstr(body, needle)))
            return e;
    }
    return NULL;
}

size_t nf_count_mail(const json_t *all, const char *to, const char *subject_part)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const char *rcpt = json_string_value(json_array_get(json_object_get(e, "rcpt_tos"), 0));
        const char *subj = nf_member(e, "subject");
        if (rcpt && subj && strcmp(rcpt, to) == 0 && strstr(subj, subject_part))
            n++;
    }
    return n;
}

const json_t *nf_find_mail(const json_t *all, const char *to, const char *subject_part)
{
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const char *rcpt = json_string_value(json_array_get(json_object_get(e, "rcpt_tos"), 0));
        const char *subj = nf_member(e, "subject");
        if (rcpt && subj && strcmp(rcpt, to) == 0 && strstr(subj, subject_part))
            return e;
    }
    return NULL;
}

json_t *nf_wait_mail(const struct h_sink *k, const char *to, const char *subject_part, size_t want,
                     int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        json_t *all = h_jsonl_read(k->out);
        if (nf_count_mail(all, to, subject_part) >= want || h_now_ms() > deadline)
            return all;
        json_decref(all);
        h_sleep_ms(20);
    }
}

void nf_wait_quiet(const char *url, int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    while (h_now_ms() < deadline) {
        if (nf_db_int(url, "SELECT (SELECT count(*) FROM notifications WHERE status = 'queued') + "
                           "(SELECT count(*) FROM outbox_events WHERE processed_at IS NULL)") == 0)
            return;
        h_sleep_ms(50);
    }
    fail_msg("notifications still queued after %d ms", timeout_ms);
}

void nf_code_in(const char *s, char out[7])
{
    out[0] = '\0';
    for (const char *p = s; p && *p; p++) {
        if (strspn(p, "0123456789") == 6 && (p == s || p[-1] < '0' || p[-1] > '9')) {
            memcpy(out, p, 6);
            out[6] = '\0';
            return;
        }
    }
}

void nf_uuid_new(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}
