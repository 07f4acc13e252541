/* A real browser on another origin: headless Chromium loads a page served from a second port
 * whose script logs in, reads /v1/me, becomes a seller with an Idempotency-Key (twice: the
 * second answer is the replay) and reads an error, all through CORS, and writes what it saw
 * into the DOM; the test reads the DOM Chromium dumps. And /docs, rendered by the same browser,
 * loads nothing from any other host. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/integration/harness_internal.h"
#include "tests/integration/user_fixtures.h"
#include "tests/test_main.h"

static struct h_server srv;
static pid_t page_pid;
static int page_port;
static char page_dir[H_PATH_MAX];

/* The page's script; API, EMAIL and PASSWORD are defined before it. */
static const char script[] =
    "const out = {};\n"
    "async function call(name, method, path, token, body, extra) {\n"
    "  const h = Object.assign({}, extra || {});\n"
    "  if (token) h['Authorization'] = 'Bearer ' + token;\n"
    "  if (body) h['Content-Type'] = 'application/json';\n"
    "  try {\n"
    "    const r = await fetch(API + path, {method, headers: h,\n"
    "                                       body: body ? JSON.stringify(body) : undefined});\n"
    "    const text = await r.text();\n"
    "    out[name] = {status: r.status, rid: r.headers.get('X-Request-ID'),\n"
    "                 replayed: r.headers.get('Idempotent-Replayed'),\n"
    "                 body: text ? JSON.parse(text) : null};\n"
    "  } catch (e) { out[name] = {error: String(e)}; }\n"
    "  return out[name];\n"
    "}\n"
    "(async () => {\n"
    "  const login = await call('login', 'POST', '/v1/auth/login', null,\n"
    "                           {login: EMAIL, password: PASSWORD});\n"
    "  const t = login.body && login.body.access_token;\n"
    "  await call('me', 'GET', '/v1/me', t);\n"
    "  const seller = {display_name: 'Browser Shop', payout: {method: 'upi', upi_vpa: "
    "'browser@okaxis'}};\n"
    "  const key = {'Idempotency-Key': 'browser-' + Date.now()};\n"
    "  await call('seller', 'POST', '/v1/me/seller', t, seller, key);\n"
    "  await call('seller_again', 'POST', '/v1/me/seller', t, seller, key);\n"
    "  await call('anonymous', 'GET', '/v1/me', null);\n"
    "  document.getElementById('out').textContent = JSON.stringify(out);\n"
    "})();\n";

static void write_page(const struct uf_ident *u)
{
    snprintf(page_dir, sizeof page_dir, "var/test-logs/%s-%d.page", h_test_name(), (int)getpid());
    mkdir("var/test-logs", 0755);
    mkdir(page_dir, 0755);
    char path[H_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/index.html", page_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "<!DOCTYPE html><html><body><pre id=\"out\">pending</pre><script>\n"
            "const API = '%s', EMAIL = '%s', PASSWORD = '%s';\n%s</script></body></html>\n",
            srv.base_url, u->email, UF_PASSWORD, script);
    fclose(f);
}

/* python3 -m http.server on page_port, serving page_dir; waits until it answers. */
static void start_page_server(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", page_port);
    const char *argv[] = {"python3",   "-m",          "http.server", port, "--bind",
                          "127.0.0.1", "--directory", page_dir,      NULL};
    struct hi_env e = {0};
    hi_env_base(&e);
    page_pid = hi_spawn(argv, e.v, STDERR_FILENO);
    hi_env_free(&e);
    assert_true(page_pid > 0);
    hi_track_pid(page_pid, true);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/index.html", page_port);
    for (int i = 0; i < 100; i++) {
        struct h_resp r = {0};
        long st = h_request_url("GET", url, NULL, 0, NULL, &r);
        h_resp_cleanup(&r);
        if (st == 200)
            return;
        h_sleep_ms(100);
    }
    fail_msg("the page server did not start on port %d", page_port);
}

/* Headless Chromium for a server (root: no sandbox), a fresh profile, the DOM of url once
 * its scripts had time to run; with net_log (may be NULL) every request it made is logged
 * there. Returns the dumped DOM. */
static char *dump_dom(const char *url, const char *net_log)
{
    char profile[H_PATH_MAX + 16], log_opt[H_PATH_MAX + 32] = "", cmd[3 * H_PATH_MAX + 512];
    snprintf(profile, sizeof profile, "%s/profile", page_dir);
    if (net_log)
        snprintf(log_opt, sizeof log_opt, "--log-net-log=%s", net_log);
    snprintf(cmd, sizeof cmd,
             "rm -rf %s; timeout 60 chromium --headless --no-sandbox --disable-gpu "
             "--disable-background-networking --disable-component-update --disable-sync "
             "--no-first-run --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' "
             "--user-data-dir=%s %s --virtual-time-budget=15000 --dump-dom "
             "%s 2>/dev/null",
             profile, profile, log_opt, url);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *dom = malloc(cap);
    size_t n;
    while (dom && (n = fread(dom + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap)
            dom = realloc(dom, cap *= 2);
    }
    pclose(p);
    assert_non_null(dom);
    dom[len] = '\0';
    return dom;
}

/* The JSON the script wrote into <pre id="out">, HTML entities of JSON text undone. */
static json_t *results(const char *dom)
{
    const char *start = strstr(dom, "<pre id=\"out\">");
    if (!start)
        return NULL;
    start += strlen("<pre id=\"out\">");
    const char *end = strstr(start, "</pre>");
    if (!end)
        return NULL;
    char *text = strndup(start, (size_t)(end - start));
    char *w = text;
    for (const char *s = text; *s;) {
        static const struct {
            const char *ent;
            char c;
        } ents[] = {{"&quot;", '"'}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}};
        size_t i = 0;
        for (; i < 4 && strncmp(s, ents[i].ent, strlen(ents[i].ent)) != 0; i++)
            ;
        if (i < 4) {
            *w++ = ents[i].c;
            s += strlen(ents[i].ent);
        } else {
            *w++ = *s++;
        }
    }
    *w = '\0';
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    return j;
}

static long status_of(const json_t *res, const char *name)
{
    return (long)json_integer_value(json_object_get(json_object_get(res, name), "status"));
}

static void test_browser_on_another_origin(void **state)
{
    page_port = h_free_port(); /* known before the server starts: its allowed origin */
    char origins[96];
    snprintf(origins, sizeof origins, "HAAT_CORS_ORIGINS=http://127.0.0.1:%d", page_port);
    const char *env[] = {origins, NULL};
    h_server_start(&srv, env);
    struct uf_ident u;
    uf_new_ident(&u);
    uf_signup(&srv, &u);
    uf_verify_phone(&srv, &u);
    write_page(&u);
    start_page_server();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/index.html", page_port);
    char *dom = dump_dom(url, NULL);
    json_t *res = results(dom);
    if (!res)
        fail_msg("no results in the DOM:\n%.2000s", dom);
    const char *step;
    json_t *v;
    json_object_foreach(res, step, v)
    {
        char *text = json_dumps(json_object_get(v, "body"), JSON_COMPACT);
        print_message("browser: %s %lld %.300s\n", step,
                      (long long)json_integer_value(json_object_get(v, "status")), text);
        free(text);
    }
    assert_int_equal(status_of(res, "login"), 200);
    assert_int_equal(status_of(res, "me"), 200);
    const json_t *me = json_object_get(json_object_get(res, "me"), "body");
    assert_string_equal(uf_str(me, "email"), u.email);
    assert_int_equal(status_of(res, "seller"), 201);
    assert_int_equal(status_of(res, "seller_again"), 201);
    /* Exposed headers are readable by the script. */
    const json_t *again = json_object_get(res, "seller_again");
    assert_string_equal(uf_str(again, "replayed"), "true");
    assert_non_null(uf_str(again, "rid"));
    assert_int_equal(status_of(res, "anonymous"), 401); /* errors are readable too */
    const json_t *anon = json_object_get(json_object_get(res, "anonymous"), "body");
    assert_string_equal(uf_str(anon, "code"), "unauthorized");
    json_decref(res);
    free(dom);
}

/* /docs renders (Redoc draws the operations) and the browser fetched nothing from any other
 * host: every URL in Chromium's network log is the server's own. */
static void test_docs_offline(void **state)
{
    char url[96], net_log[H_PATH_MAX + 16];
    snprintf(url, sizeof url, "%s/docs", srv.base_url);
    snprintf(net_log, sizeof net_log, "%s/netlog.json", page_dir);
    char *dom = dump_dom(url, net_log);
    if (!strstr(dom, "/v1/auth/login"))
        fail_msg("/docs did not render the operations:\n%.1000s", dom);
    json_t *log = json_load_file(net_log, 0, NULL);
    assert_non_null(log);
    char own[80];
    snprintf(own, sizeof own, "%s/", srv.base_url);
    int requests = 0;
    size_t i;
    const json_t *ev;
    json_array_foreach(json_object_get(log, "events"), i, ev)
    {
        /* What the page asked for: requests initiated by its origin (the browser's own
         * background requests have none; the resolver rules keep them on this machine). */
        const json_t *params = json_object_get(ev, "params");
        const char *u = uf_str(params, "url"), *initiator = uf_str(params, "initiator");
        if (!u || !initiator || strncmp(initiator, srv.base_url, strlen(srv.base_url)) != 0)
            continue;
        if (strncmp(u, own, strlen(own)) != 0)
            fail_msg("/docs fetched %.120s", u);
        requests++;
    }
    assert_true(requests >= 2); /* the bundle, the spec (and the favicon) */
    json_decref(log);
    free(dom);
}

static int teardown(void **state)
{
    if (page_pid > 0) {
        kill(page_pid, SIGTERM);
        hi_wait_pid(page_pid, 5000);
        hi_track_pid(page_pid, false);
    }
    char cmd[H_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s/profile", page_dir); /* the page and net log stay */
    if (page_dir[0] && system(cmd) != 0)
        print_error("could not remove %s/profile\n", page_dir);
    h_server_cleanup(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_browser_on_another_origin),
        cmocka_unit_test(test_docs_offline),
    };
    return HAAT_RUN_GROUP("browser", tests, NULL, teardown);
}
