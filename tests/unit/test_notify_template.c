/* Unit tests for the notification templates and routing table: rupee formatting (Indian
 * grouping), placeholder parsing and rendering, start-up validation against the declared
 * fields, the real template set in configs/templates, and a routing table that covers every
 * event of docs/events.md with exactly its payload fields. No database. */
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

#include "internal/notification/internal.h"
#include "tests/test_main.h"

static char errbuf[NOTIFY_ERR_LEN];

static void rupees_is(int64_t minor, const char *want)
{
    char out[NOTIFY_RUPEES_LEN];
    notify_rupees(minor, out);
    assert_string_equal(out, want);
}

static void test_rupees(void **state)
{
    (void)state;
    rupees_is(0, "₹0.00");
    rupees_is(5, "₹0.05");
    rupees_is(99, "₹0.99");
    rupees_is(100, "₹1.00");
    rupees_is(129900, "₹1,299.00");
    rupees_is(10000000, "₹1,00,000.00"); /* one lakh */
    rupees_is(100000, "₹1,000.00");
    rupees_is(1000000, "₹10,000.00");
    rupees_is(123456789, "₹12,34,567.89");
    rupees_is(1000000000, "₹1,00,00,000.00"); /* one crore */
    rupees_is(99999, "₹999.99");
    rupees_is(-500, "-₹5.00");
    rupees_is(-129950, "-₹1,299.50");
    rupees_is(INT64_MAX, "₹92,23,37,20,36,85,47,758.07");
    rupees_is(INT64_MIN, "-₹92,23,37,20,36,85,47,758.08");
}

/* Parses src, expecting success. */
static void parse_ok(struct tpl *t, const char *src)
{
    errbuf[0] = '\0';
    int rc = notify_tpl_parse(t, src, strlen(src), errbuf, sizeof errbuf);
    if (rc != 0)
        fail_msg("parse of \"%s\" failed: %s", src, errbuf);
}

static void parse_fails(const char *src, const char *want_in_err)
{
    struct tpl t;
    errbuf[0] = '\0';
    assert_int_equal(notify_tpl_parse(&t, src, strlen(src), errbuf, sizeof errbuf), -1);
    if (!strstr(errbuf, want_in_err))
        fail_msg("error for \"%s\" is \"%s\", expected it to mention \"%s\"", src, errbuf,
                 want_in_err);
    notify_tpl_free(&t);
}

static void test_parse(void **state)
{
    (void)state;
    struct tpl t;
    parse_ok(&t, "Hi {{name}}, total {{ total_minor | rupees }}.");
    assert_int_equal(t.n, 5);
    assert_null(t.segs[0].var);
    assert_string_equal(t.segs[0].text, "Hi ");
    assert_string_equal(t.segs[1].var, "name");
    assert_int_equal(t.segs[1].filter, TPL_F_NONE);
    assert_string_equal(t.segs[3].var, "total_minor");
    assert_int_equal(t.segs[3].filter, TPL_F_RUPEES);
    assert_true(notify_tpl_uses(&t, "name"));
    assert_false(notify_tpl_uses(&t, "nam"));
    notify_tpl_free(&t);

    parse_ok(&t, "");
    assert_int_equal(t.n, 0);
    notify_tpl_free(&t);
    parse_ok(&t, "no placeholders, { single braces } are text");
    assert_int_equal(t.n, 1);
    notify_tpl_free(&t);

    parse_fails("Hi {{name", "line 1: unterminated");
    parse_fails("a\nb\nHi {{name\n}}", "line 3: unterminated");
    parse_fails("{{}}", "needs a name");
    parse_fails("{{ }}", "needs a name");
    parse_fails("{{Name}}", "needs a name");
    parse_fails("{{first name}}", "unexpected character 'n'");
    parse_fails("{{total|bogus}}", "unknown filter");
    parse_fails("{{total|}}", "unknown filter");
    parse_fails("oops }} here", "'}}' without '{{'");
    parse_fails("{{a}}{{b-c}}", "unexpected character '-'");
}

static const struct nf_field fields[] = {
    {"name", NF_STR, 0},       {"order_id", NF_UUID, 0}, {"total_minor", NF_MONEY, 0},
    {"item_count", NF_INT, 0}, {"refunded", NF_BOOL, 0}, {"reason", NF_STR, NF_OPTIONAL},
    {NULL, NF_STR, 0},
};

static int check(const char *src)
{
    struct tpl t;
    const struct nf_field *sets[] = {fields, notify_common_fields, NULL};
    parse_ok(&t, src);
    errbuf[0] = '\0';
    int rc = notify_tpl_check(&t, sets, errbuf, sizeof errbuf);
    notify_tpl_free(&t);
    return rc;
}

static void test_check(void **state)
{
    (void)state;
    assert_int_equal(check("{{name}} {{order_id|short}} {{total_minor|rupees}} {{item_count}} "
                           "{{item_count|rupees}} {{refunded|yesno}} {{refunded}} {{app_url}}"),
                     0);
    /* A placeholder the event does not declare is a start-up error, never a blank. */
    assert_int_equal(check("Hi {{nmae}}"), -1);
    assert_non_null(strstr(errbuf, "{{nmae}} is not a field"));
    assert_int_equal(check("{{total_minor}}"), -1);
    assert_non_null(strstr(errbuf, "must be rendered with |rupees"));
    assert_int_equal(check("{{name|rupees}}"), -1);
    assert_non_null(strstr(errbuf, "|rupees needs an integer"));
    assert_int_equal(check("{{name|yesno}}"), -1);
    assert_int_equal(check("{{refunded|short}}"), -1);
    assert_int_equal(check("{{recipient_name}}"), -1); /* not in these sets */
}

static char *render(const char *src, const char *vars_json, unsigned flags)
{
    struct tpl t;
    parse_ok(&t, src);
    json_t *vars = json_loads(vars_json, 0, NULL);
    assert_non_null(vars);
    errbuf[0] = '\0';
    char *out = notify_tpl_render(&t, vars, flags, fields, errbuf, sizeof errbuf);
    json_decref(vars);
    notify_tpl_free(&t);
    return out;
}

static void render_is(const char *src, const char *vars, unsigned flags, const char *want)
{
    char *out = render(src, vars, flags);
    if (!out)
        fail_msg("render of \"%s\" failed: %s", src, errbuf);
    assert_string_equal(out, want);
    free(out);
}

/* Literal text holding a NUL byte is kept to its full length (found by tests/fuzz: the copy
 * used to stop at the NUL while its length did not, and rendering read past it). */
static void test_nul_in_literal_text(void **state)
{
    static const char src[] = "A\0\0B{{name}}";
    static const struct nf_field name_only[] = {{"name", NF_STR, 0}, {NULL, NF_STR, 0}};
    struct tpl t = {0};
    assert_int_equal(notify_tpl_parse(&t, src, sizeof src - 1, errbuf, sizeof errbuf), 0);
    assert_int_equal(t.segs[0].len, 4);
    assert_int_equal(memcmp(t.segs[0].text, "A\0\0B", 4), 0);
    json_t *vars = json_pack("{s:s}", "name", "x");
    char *out = notify_tpl_render(&t, vars, 0, name_only, errbuf, sizeof errbuf);
    assert_non_null(out);
    assert_string_equal(out, "A"); /* a C string ends at the first NUL */
    free(out);
    json_decref(vars);
    notify_tpl_free(&t);
}

static void test_render(void **state)
{
    (void)state;
    render_is("Order {{order_id|short}}: {{total_minor|rupees}} for {{item_count}} item(s)",
              "{\"order_id\":\"0192f0c4-1111-7abc-8def-0123456789ab\",\"total_minor\":129900,"
              "\"item_count\":3}",
              0, "Order 0192f0c4: ₹1,299.00 for 3 item(s)");
    render_is("Refunded: {{refunded|yesno}} ({{refunded}})", "{\"refunded\":false}", 0,
              "Refunded: no (false)");
    render_is("Hi {{name}}!", "{\"name\":\"आशा\"}", 0, "Hi आशा!");
    /* |short counts characters, never cutting a UTF-8 sequence. */
    render_is("{{name|short}}", "{\"name\":\"नमस्ते दुनिया\"}", 0, "नमस्ते द");
    /* An optional field may be absent or null; a required one may not. */
    render_is("Reason: {{reason}}.", "{}", 0, "Reason: .");
    render_is("Reason: {{reason}}.", "{\"reason\":null}", 0, "Reason: .");
    assert_null(render("Hi {{name}}", "{}", 0));
    assert_non_null(strstr(errbuf, "field name is missing"));
    assert_null(render("Hi {{name}}", "{\"name\":null}", 0));
    assert_null(render("{{total_minor|rupees}}", "{\"total_minor\":\"12\"}", 0));
    assert_non_null(strstr(errbuf, "wrong type"));
    assert_null(render("{{refunded|yesno}}", "{\"refunded\":1}", 0));
    /* Values cannot smuggle control characters; one-line mode (subjects) flattens breaks. */
    render_is("[{{name}}]", "{\"name\":\"a\\r\\nb\\u0007c\\td\"}", 0, "[a\nbc\td]");
    render_is("[{{name}}]", "{\"name\":\"a\\r\\nBcc: x@y\"}", TPL_ONE_LINE, "[a Bcc: x@y]");
    /* Literal template text is kept as written. */
    render_is("line1\nline2 {{item_count}}", "{\"item_count\":-2}", 0, "line1\nline2 -2");
}

static void test_template_file_format(void **state)
{
    (void)state;
    struct notify_tpl t;
    const char *ok = "Subject: Order {{order_id|short}}\n\nBody {{name}}\n\n";
    assert_int_equal(notify_template_parse(&t, NOTIFY_EMAIL, ok, strlen(ok), errbuf, sizeof errbuf),
                     0);
    assert_true(t.present);
    assert_true(notify_tpl_uses(&t.subject, "order_id"));
    assert_true(notify_tpl_uses(&t.body, "name"));
    assert_string_equal(t.body.segs[t.body.n - 1].var, "name"); /* trailing blank lines cut */
    notify_template_free(&t);

    const char *bad[] = {
        "Body without subject\n", "Subject: x\nno blank line\n", "Subject:\n\nbody\n",
        "Subject: x\n\n\n",       "Subject: {{oops\n\nbody\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            notify_template_parse(&t, NOTIFY_EMAIL, bad[i], strlen(bad[i]), errbuf, sizeof errbuf),
            -1);
        notify_template_free(&t);
    }
    assert_int_equal(notify_template_parse(&t, NOTIFY_SMS, "  \n\n", 4, errbuf, sizeof errbuf), -1);
    notify_template_free(&t);
    const char *sms = "Code {{code}}\n";
    assert_int_equal(notify_template_parse(&t, NOTIFY_SMS, sms, strlen(sms), errbuf, sizeof errbuf),
                     0);
    notify_template_free(&t);
}

static int check_for(const char *event, enum notify_channel ch, const char *text)
{
    struct notify_tpl t;
    const struct notify_route *r = notify_route_find(event);
    assert_non_null(r);
    int rc = notify_template_parse(&t, ch, text, strlen(text), errbuf, sizeof errbuf);
    if (rc == 0)
        rc = notify_template_check(&t, r, errbuf, sizeof errbuf);
    notify_template_free(&t);
    return rc;
}

static void test_template_rules(void **state)
{
    (void)state;
    assert_int_equal(check_for("order.placed", NOTIFY_EMAIL,
                               "Subject: {{total_minor|rupees}}\n\nHi {{recipient_name}}, "
                               "{{order_id}} {{app_url}}\n"),
                     0);
    /* seller_name is not in order.placed's payload. */
    assert_int_equal(check_for("order.placed", NOTIFY_EMAIL, "Subject: x\n\n{{seller_name}}\n"),
                     -1);
    assert_int_equal(check_for("otp.requested", NOTIFY_SMS,
                               "{{code}} to {{purpose_text}}, {{expires_minutes}} min\n"),
                     0);
    /* The OTP goes to an address, not a user: no recipient name. */
    assert_int_equal(check_for("otp.requested", NOTIFY_SMS, "Hi {{recipient_name}} {{code}}\n"),
                     -1);
    /* A code in a subject would show on lock screens and in the feed unmasked. */
    assert_int_equal(check_for("otp.requested", NOTIFY_EMAIL, "Subject: {{code}}\n\nx\n"), -1);
    assert_non_null(strstr(errbuf, "only appear in the body"));
    /* {{code}} exists only for the OTP event. */
    assert_int_equal(check_for("message.received", NOTIFY_SMS, "{{preview}} {{code}}\n"), -1);
}

/* The real template set loads and validates. */
static void test_real_templates(void **state)
{
    (void)state;
    assert_int_equal(notify_templates_load("configs/templates"), 0);
    for (size_t r = 0; r < notify_nroutes; r++)
        for (size_t i = 0; i < notify_route_table[r].nrecipients; i++)
            for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
                assert_non_null(notify_template(&notify_route_table[r], i, ch));
    /* Render one as the fan-out would. */
    const struct notify_route *r = notify_route_find("order.placed");
    const struct notify_tpl *t = notify_template(r, 0, NOTIFY_EMAIL);
    json_t *vars = json_pack(
        "{s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:s}", "order_id", "0192f0c4-1111-7abc-8def-0123456789ab",
        "buyer_id", "0192f0c4-2222-7abc-8def-0123456789ab", "seller_id",
        "0192f0c4-3333-7abc-8def-0123456789ab", "total_minor", 129900, "currency", "INR",
        "item_count", 2, "recipient_name", "Asha", "app_url", "https://haat.example");
    char *subject =
        notify_tpl_render(&t->subject, vars, TPL_ONE_LINE, r->fields, errbuf, sizeof errbuf);
    char *body = notify_tpl_render(&t->body, vars, 0, r->fields, errbuf, sizeof errbuf);
    assert_non_null(subject);
    assert_non_null(body);
    assert_string_equal(subject, "Order 0192f0c4 placed: ₹1,299.00");
    assert_non_null(strstr(body, "Hi Asha,"));
    assert_non_null(strstr(body, "2 item(s) for ₹1,299.00"));
    free(subject);
    free(body);
    json_decref(vars);
    notify_templates_free();
    assert_null(notify_template(r, 0, NOTIFY_EMAIL));
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

/* A copy of the real set with one file broken or missing fails to load (start-up fails). */
static void test_broken_set_fails(void **state)
{
    (void)state;
    char dir[] = "/tmp/haat_tpl_XXXXXX", from[512], to[512];
    assert_non_null(mkdtemp(dir));
    for (size_t r = 0; r < notify_nroutes; r++)
        for (size_t i = 0; i < notify_route_table[r].nrecipients; i++)
            for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++) {
                const char *role = notify_route_table[r].recipients[i].role;
                snprintf(from, sizeof from, "configs/templates/%s%s%s.%s.txt",
                         notify_route_table[r].event, role ? "." : "", role ? role : "",
                         notify_channel_name(ch));
                snprintf(to, sizeof to, "%s/%s", dir, strrchr(from, '/') + 1);
                copy_file(from, to);
            }
    assert_int_equal(notify_templates_load(dir), 0);
    snprintf(to, sizeof to, "%s/payout.paid.sms.txt", dir);
    FILE *f = fopen(to, "w");
    assert_non_null(f);
    fputs("Payout of {{amount_minor|rupees}} to {{bank_name}}\n", f);
    fclose(f);
    assert_int_equal(notify_templates_load(dir), -1);
    assert_int_equal(unlink(to), 0);
    assert_int_equal(notify_templates_load(dir), -1); /* missing */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- docs/events.md is the contract: every event routed, with exactly its fields ---- */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The payload names of a docs/events.md cell: "a, b (\"x\"|\"y\"), c" -> a b c. */
static size_t doc_fields(const char *cell, char names[16][48])
{
    size_t n = 0;
    const char *p = cell;
    while (*p && n < 16) {
        while (*p == ' ' || *p == ',' || *p == '`')
            p++;
        size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
        if (len == 0)
            break;
        snprintf(names[n++], 48, "%.*s", (int)len, p);
        p += len;
        int depth = 0; /* skip a parenthesised note */
        while (*p && (depth > 0 || *p != ',')) {
            depth += *p == '(';
            depth -= *p == ')';
            p++;
        }
    }
    return n;
}

static void test_routes_cover_events_md(void **state)
{
    (void)state;
    char *doc = read_all("docs/events.md");
    size_t seen = 0;
    for (char *line = strtok(doc, "\n"); line; line = strtok(NULL, "\n")) {
        char event[64], producer[32];
        int off = 0;
        if (sscanf(line, "| `%63[a-z_.]` | %31[a-z] |%n", event, producer, &off) != 2)
            continue;
        seen++;
        const struct notify_route *r = notify_route_find(event);
        if (!r)
            fail_msg("docs/events.md names %s but the routing table does not", event);
        char names[16][48];
        char *cell = line + off;
        char *end = strrchr(cell, '|');
        if (end)
            *end = '\0';
        size_t n = doc_fields(cell, names);
        size_t declared = 0;
        for (const struct nf_field *f = r->fields; f->name; f++)
            declared += !(f->flags & NF_DERIVED);
        if (n != declared)
            fail_msg("%s: docs list %zu fields, the table declares %zu", event, n, declared);
        for (size_t i = 0; i < n; i++) {
            bool found = false;
            for (const struct nf_field *f = r->fields; f->name; f++)
                found |= !(f->flags & NF_DERIVED) && strcmp(f->name, names[i]) == 0;
            if (!found)
                fail_msg("%s: field %s of docs/events.md is not declared", event, names[i]);
        }
    }
    assert_int_equal(seen, notify_nroutes); /* and nothing routed that is not documented */
}

static void test_route_table_sane(void **state)
{
    (void)state;
    size_t priority = 0;
    for (size_t i = 0; i < notify_nroutes; i++) {
        const struct notify_route *r = &notify_route_table[i];
        assert_ptr_equal(notify_route_find(r->event), r); /* no duplicates */
        assert_non_null(notify_category_find(r->category));
        assert_true(r->nrecipients >= 1 && r->nrecipients <= NOTIFY_MAX_RECIPIENTS);
        for (size_t k = 0; k < r->nrecipients && !r->to_destination; k++) {
            bool declared = false;
            for (const struct nf_field *f = r->fields; f->name; f++)
                declared |= strcmp(f->name, r->recipients[k].user_field) == 0 && f->type == NF_UUID;
            if (!declared)
                fail_msg("%s: recipient field %s is not a declared uuid", r->event,
                         r->recipients[k].user_field);
        }
        if (r->priority) {
            priority++;
            assert_string_equal(r->event, NOTIFY_PRIORITY_EVENT);
            assert_false(notify_category_find(r->category)->switchable);
        }
    }
    assert_int_equal(priority, 1);
    assert_null(notify_route_find("order.unknown"));
    /* The migration's fast-lane index names the same event type as the code. */
    char *mig = read_all("migrations/0004_notifications.sql");
    assert_non_null(strstr(mig, "type = '" NOTIFY_PRIORITY_EVENT "'"));
    /* The contract (docs/openapi.yaml): security messages cannot be switched off; marketing
     * is opt-in. */
    assert_false(notify_category_find("security")->switchable);
    assert_false(notify_category_find("marketing")->default_enabled);
    assert_true(notify_category_find("orders")->default_enabled);
    assert_int_equal(notify_channel_parse("sms"), NOTIFY_SMS);
    assert_int_equal(notify_channel_parse("email"), NOTIFY_EMAIL);
    assert_int_equal(notify_channel_parse("push"), -1);
    assert_int_equal(notify_channel_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rupees),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_nul_in_literal_text),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_template_file_format),
        cmocka_unit_test(test_template_rules),
        cmocka_unit_test(test_real_templates),
        cmocka_unit_test(test_broken_set_fails),
        cmocka_unit_test(test_routes_cover_events_md),
        cmocka_unit_test(test_route_table_sane),
    };
    return HAAT_RUN_GROUP("notify_template", tests, NULL, NULL);
}
