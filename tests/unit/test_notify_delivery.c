/* Unit tests for notification delivery without a network or database: the SMTP message
 * (headers, RFC 2047 subjects, quoted-printable bodies, no header injection), addresses, the
 * retry schedule and answer classification, and the log provider's JSON lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "internal/notification/internal.h"
#include "tests/test_main.h"

#define ID "0192f0c4-1111-7abc-8def-0123456789ab"

/* The value of header name (unfolded, without the name), or NULL. Caller frees. */
static char *header(const char *msg, const char *name)
{
    size_t nlen = strlen(name);
    const char *end = strstr(msg, "\r\n\r\n");
    for (const char *p = msg; p && p < end; p = strstr(p, "\r\n") + 2) {
        if (strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 2;
            char *out = calloc(1, strlen(v) + 1);
            size_t n = 0;
            while (v < end) {
                if (v[0] == '\r' && v[1] == '\n' && v[2] != ' ' && v[2] != '\t')
                    break;
                if (v[0] == '\r' && v[1] == '\n') {
                    v += 2; /* folding: CRLF + whitespace */
                    continue;
                }
                out[n++] = *v++;
            }
            return out;
        }
    }
    return NULL;
}

/* Decodes a sequence of RFC 2047 B-words ("=?UTF-8?B?...?= =?UTF-8?B?...?="). Every word must
 * decode to whole UTF-8 characters. Caller frees. */
static char *decode_words(const char *v)
{
    char *out = calloc(1, 1024);
    size_t n = 0;
    const char *p = v;
    while ((p = strstr(p, "=?UTF-8?B?"))) {
        const char *s = p + 10, *e = strstr(s, "?=");
        assert_non_null(e);
        assert_true(e + 2 - p <= 75); /* an encoded word is at most 75 characters */
        size_t got = 0;
        unsigned char buf[128];
        assert_int_equal(sodium_base642bin(buf, sizeof buf, s, (size_t)(e - s), NULL, &got, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        buf[got] = '\0';
        /* whole characters: the word does not end inside a multi-byte sequence */
        size_t i = got;
        while (i > 0 && (buf[i - 1] & 0xc0) == 0x80)
            i--;
        if (i > 0 && buf[i - 1] >= 0xc0) {
            size_t want = buf[i - 1] >= 0xf0 ? 4 : buf[i - 1] >= 0xe0 ? 3 : 2;
            assert_int_equal(got - (i - 1), want);
        }
        memcpy(out + n, buf, got);
        n += got;
        p = e + 2;
    }
    return out;
}

/* Decodes a quoted-printable body (CRLF line ends) to \n line ends. Caller frees. */
static char *qp_decode(const char *s)
{
    char *out = calloc(1, strlen(s) + 1);
    size_t n = 0;
    for (const char *p = s; *p;) {
        if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
            p += 3;
        } else if (p[0] == '=') {
            unsigned v;
            assert_int_equal(sscanf(p + 1, "%2X", &v), 1);
            out[n++] = (char)v;
            p += 3;
        } else if (p[0] == '\r' && p[1] == '\n') {
            out[n++] = '\n';
            p += 2;
        } else {
            out[n++] = *p++;
        }
    }
    return out;
}

static void assert_lines_at_most(const char *s, size_t max)
{
    for (const char *p = s; *p;) {
        const char *e = strstr(p, "\r\n");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > max)
            fail_msg("line of %zu characters (max %zu): %.*s", len, max, (int)len, p);
        assert_null(memchr(p, '\n', len)); /* no bare LF */
        p = e ? e + 2 : p + len;
    }
}

static void test_mail_headers(void **state)
{
    (void)state;
    struct notify_mail m = {
        .from = "haat <no-reply@haat.local>",
        .to = "asha@example.com",
        .to_name = "Asha \"A\" Rao",
        .subject = "Order 0192f0c4 placed: ₹1,299.00",
        .body = "Hi Asha,\n\nTotal: ₹1,299.00\n",
        .id = ID,
        .unix_s = 1795255200, /* 2026-11-21T10:00:00Z */
    };
    size_t len = 0;
    char *msg = notify_mail_build(&m, &len);
    assert_int_equal(len, strlen(msg));
    char *v = header(msg, "Date");
    assert_string_equal(v, "Sat, 21 Nov 2026 10:00:00 +0000");
    free(v);
    v = header(msg, "From");
    assert_string_equal(v, "\"haat\" <no-reply@haat.local>");
    free(v);
    v = header(msg, "To");
    assert_string_equal(v, "\"Asha \\\"A\\\" Rao\" <asha@example.com>");
    free(v);
    v = header(msg, "Message-ID");
    assert_string_equal(v, "<" ID "@haat.local>");
    free(v);
    v = header(msg, "MIME-Version");
    assert_string_equal(v, "1.0");
    free(v);
    v = header(msg, "Content-Type");
    assert_string_equal(v, "text/plain; charset=UTF-8");
    free(v);
    v = header(msg, "Content-Transfer-Encoding");
    assert_string_equal(v, "quoted-printable");
    free(v);
    v = header(msg, "Subject");
    assert_non_null(strstr(v, "=?UTF-8?B?"));
    char *subject = decode_words(v);
    assert_string_equal(subject, m.subject);
    free(subject);
    free(v);
    assert_lines_at_most(msg, 998);
    char *body = qp_decode(strstr(msg, "\r\n\r\n") + 4);
    assert_string_equal(body, "Hi Asha,\n\nTotal: ₹1,299.00\n\n");
    free(body);
    assert_lines_at_most(strstr(msg, "\r\n\r\n") + 4, 76);
    free(msg);
}

static void test_mail_plain_and_long(void **state)
{
    (void)state;
    char long_subject[600] = "";
    for (int i = 0; i < 30; i++)
        strcat(long_subject, "नमस्ते ");
    char long_body[3000] = "";
    for (int i = 0; i < 100; i++)
        strcat(long_body, "word=value ");
    strcat(long_body, "\n.leading dot\ntrailing space \n");
    struct notify_mail m = {.from = "no-reply@haat.local",
                            .to = "b@example.com",
                            .to_name = "",
                            .subject = long_subject,
                            .body = long_body,
                            .id = ID,
                            .unix_s = 0};
    char *msg = notify_mail_build(&m, NULL);
    char *v = header(msg, "Date");
    assert_string_equal(v, "Thu, 01 Jan 1970 00:00:00 +0000");
    free(v);
    v = header(msg, "From");
    assert_string_equal(v, "<no-reply@haat.local>");
    free(v);
    v = header(msg, "To");
    assert_string_equal(v, "<b@example.com>");
    free(v);
    v = header(msg, "Subject");
    char *subject = decode_words(v);
    assert_string_equal(subject, long_subject); /* many words, none splitting a character */
    free(subject);
    free(v);
    const char *b = strstr(msg, "\r\n\r\n") + 4;
    assert_lines_at_most(b, 76);
    assert_null(strstr(b, "\r\n.")); /* no line starts with a dot */
    char *body = qp_decode(b);
    assert_string_equal(body, (strcat(long_body, "\n"), long_body));
    free(body);
    free(msg);

    /* ASCII body: 7bit, sent as is with CRLF. */
    m.subject = "Payout sent";
    m.body = "Hello,\nall ASCII.";
    msg = notify_mail_build(&m, NULL);
    v = header(msg, "Subject");
    assert_string_equal(v, "Payout sent");
    free(v);
    v = header(msg, "Content-Transfer-Encoding");
    assert_string_equal(v, "7bit");
    free(v);
    assert_string_equal(strstr(msg, "\r\n\r\n") + 4, "Hello,\r\nall ASCII.\r\n");
    free(msg);
}

/* Line breaks in a subject or name can never start a new header. */
static void test_mail_no_injection(void **state)
{
    (void)state;
    struct notify_mail m = {.from = "haat <no-reply@haat.local>",
                            .to = "c@example.com",
                            .to_name = "Eve\r\nBcc: victim@example.com",
                            .subject = "Hi\r\nBcc: victim@example.com",
                            .body = "x",
                            .id = ID};
    char *msg = notify_mail_build(&m, NULL);
    assert_null(strstr(msg, "\r\nBcc:"));
    char *v = header(msg, "Subject");
    char *subject = decode_words(v);
    assert_string_equal(subject, m.subject); /* carried inside the encoded word */
    free(subject);
    free(v);
    free(msg);
}

static void test_addresses(void **state)
{
    (void)state;
    char *a = notify_mail_addr("haat <no-reply@haat.local>");
    assert_string_equal(a, "no-reply@haat.local");
    free(a);
    a = notify_mail_addr("ops@haat.example");
    assert_string_equal(a, "ops@haat.example");
    free(a);
    assert_null(notify_mail_addr("haat <broken"));
    assert_null(notify_mail_addr("no address here"));
    assert_null(notify_mail_addr(NULL));
    assert_true(notify_mail_addr_ok("a.b+tag@example.co.in"));
    assert_false(notify_mail_addr_ok("a@"));
    assert_false(notify_mail_addr_ok("@example.com"));
    assert_false(notify_mail_addr_ok("a b@example.com"));
    assert_false(notify_mail_addr_ok("a@example.com>\r\nRCPT TO:<x@y.z"));
    assert_false(notify_mail_addr_ok("a<b@example.com"));
    assert_false(notify_mail_addr_ok("आशा@example.com"));
    assert_false(notify_mail_addr_ok(""));
}

static void test_encode_header(void **state)
{
    (void)state;
    char *s = notify_mail_encode_header("plain ascii");
    assert_string_equal(s, "plain ascii");
    free(s);
    s = notify_mail_encode_header("₹");
    assert_string_equal(s, "=?UTF-8?B?4oK5?=");
    free(s);
    char *q = notify_mail_qp("a=b\tc \n\xe2\x82\xb9");
    assert_string_equal(q, "a=3Db\tc=20\r\n=E2=82=B9");
    free(q);
    char d[40];
    notify_mail_date(951782400, d); /* leap day */
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 +0000");
}

static void test_backoff(void **state)
{
    (void)state;
    /* failed attempts -> base delay d; the jittered delay lies in [d/2, d] */
    const int64_t base[] = {0, 1000, 2000, 4000, 8000, 16000};
    for (int n = 1; n <= 5; n++) {
        assert_int_equal(notify_backoff_ms(n, 0), base[n] / 2);
        assert_int_equal(notify_backoff_ms(n, (uint32_t)(base[n] / 2)), base[n]);
        for (uint32_t r = 1; r < 4000000000u; r += 123456789u) {
            int64_t d = notify_backoff_ms(n, r);
            assert_true(d >= base[n] / 2 && d <= base[n]);
        }
    }
    assert_int_equal(notify_backoff_ms(0, 0), 500); /* treated as the first */
    for (int n = 10; n < 1000; n += 97) {
        int64_t d = notify_backoff_ms(n, 0xffffffffu);
        assert_true(d >= NOTIFY_BACKOFF_CAP_MS / 2 && d <= NOTIFY_BACKOFF_CAP_MS);
    }
    /* Jitter spreads: not every random value gives the same delay. */
    assert_int_not_equal(notify_backoff_ms(3, 1), notify_backoff_ms(3, 1500));
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(notify_classify_http(200), NOTIFY_SENT);
    assert_int_equal(notify_classify_http(201), NOTIFY_SENT);
    assert_int_equal(notify_classify_http(400), NOTIFY_FAILED);
    assert_int_equal(notify_classify_http(401), NOTIFY_FAILED);
    assert_int_equal(notify_classify_http(404), NOTIFY_FAILED);
    assert_int_equal(notify_classify_http(408), NOTIFY_RETRY);
    assert_int_equal(notify_classify_http(429), NOTIFY_RETRY);
    assert_int_equal(notify_classify_http(500), NOTIFY_RETRY);
    assert_int_equal(notify_classify_http(503), NOTIFY_RETRY);
    assert_int_equal(notify_classify_http(0), NOTIFY_RETRY); /* timeout, refused */
    assert_int_equal(notify_classify_http(302), NOTIFY_FAILED);
    assert_int_equal(notify_classify_smtp(true, 250), NOTIFY_SENT);
    assert_int_equal(notify_classify_smtp(false, 550), NOTIFY_FAILED);
    assert_int_equal(notify_classify_smtp(false, 451), NOTIFY_RETRY);
    assert_int_equal(notify_classify_smtp(false, 0), NOTIFY_RETRY);
    /* The last attempt turns a retry into a failure; a failure stays one. */
    assert_int_equal(notify_after_failure(NOTIFY_RETRY, 1), NOTIFY_RETRY);
    assert_int_equal(notify_after_failure(NOTIFY_RETRY, NOTIFY_MAX_ATTEMPTS - 1), NOTIFY_RETRY);
    assert_int_equal(notify_after_failure(NOTIFY_RETRY, NOTIFY_MAX_ATTEMPTS), NOTIFY_FAILED);
    assert_int_equal(notify_after_failure(NOTIFY_FAILED, 1), NOTIFY_FAILED);
}

static void test_log_provider(void **state)
{
    (void)state;
    char dir[] = "/tmp/haat_nlog_XXXXXX", sub[64], path[128], err[NOTIFY_ERR_LEN] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/notify", dir); /* created on first use */
    struct notify_msg m = {.id = ID,
                           .event = "otp.requested",
                           .to = "+919800000001",
                           .subject = "ignored for sms",
                           .body = "123456 is your code",
                           .created_at = "2026-11-21T10:00:00Z"};
    assert_int_equal(notify_log_send(sub, NOTIFY_SMS, &m, err, sizeof err), NOTIFY_SENT);
    m.to = "asha@example.com";
    m.subject = "Welcome \"Asha\"";
    m.body = "line1\nline2 ₹1,299.00";
    assert_int_equal(notify_log_send(sub, NOTIFY_EMAIL, &m, err, sizeof err), NOTIFY_SENT);
    assert_int_equal(notify_log_send(sub, NOTIFY_EMAIL, &m, err, sizeof err), NOTIFY_SENT);

    snprintf(path, sizeof path, "%s/sms.jsonl", sub);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "{\"to\":\"+919800000001\",\"subject\":\"\",\"body\":\"123456 is "
                              "your code\",\"event\":\"otp.requested\",\"notification_id\":\"" ID
                              "\",\"created_at\":\"2026-11-21T10:00:00Z\"}\n");
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    snprintf(path, sizeof path, "%s/email.jsonl", sub);
    f = fopen(path, "r");
    assert_non_null(f);
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        assert_int_equal(json_object_size(j), 6);
        assert_string_equal(json_string_value(json_object_get(j, "subject")), m.subject);
        assert_string_equal(json_string_value(json_object_get(j, "body")), m.body);
        json_decref(j);
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 2);
    /* An unwritable place is a retry, not a lost message. */
    assert_int_equal(notify_log_send("/proc/haat-nope/x", NOTIFY_SMS, &m, err, sizeof err),
                     NOTIFY_RETRY);
    assert_true(err[0] != '\0');
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mail_headers),      cmocka_unit_test(test_mail_plain_and_long),
        cmocka_unit_test(test_mail_no_injection), cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_encode_header),     cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_classify),          cmocka_unit_test(test_log_provider),
    };
    return HAAT_RUN_GROUP("notify_delivery", tests, NULL, NULL);
}
