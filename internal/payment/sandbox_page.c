/* The sandbox's hosted checkout page: one self-contained HTML document (inline CSS and JS, no
 * external asset, no network but haat itself). The buyer picks UPI (an intent link, upi://pay,
 * the way a phone app is opened — not a "collect" request), card (the fields are decoration
 * with no name: nothing typed there is ever sent) or net banking, then succeeds or fails the
 * payment; the buttons POST /v1/sandbox/payments/{id}/complete, then return to return_url when
 * the payment carries one. */
#include <inttypes.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/util/strbuf.h"

static const char style[] =
    "<style>body{font-family:system-ui,sans-serif;background:#f3f5f9;margin:0;color:#1d2433}"
    "main{max-width:460px;margin:32px auto;background:#fff;border-radius:12px;padding:24px;"
    "box-shadow:0 2px 12px rgba(0,0,0,.12)}h1{font-size:20px;margin:0 0 4px}"
    ".amt{font-size:32px;font-weight:700;margin:12px 0;color:#0b5cff}"
    ".tabs{display:flex;gap:8px;margin:16px 0}.tabs button{flex:1;padding:10px;border:1px solid "
    "#c9d1e0;background:#fff;border-radius:8px;cursor:pointer;font-size:15px}"
    ".tabs button.on{background:#0b5cff;color:#fff;border-color:#0b5cff}"
    ".pane{display:none;padding:12px;border:1px dashed "
    "#c9d1e0;border-radius:8px;margin-bottom:16px}"
    ".pane.on{display:block}input,select{width:100%;padding:8px;margin:4px 0;box-sizing:border-box}"
    ".go{display:flex;gap:8px}.go button{flex:1;padding:12px;border:0;border-radius:8px;"
    "font-size:16px;color:#fff;cursor:pointer}.ok{background:#12a150}.ko{background:#d93025}"
    "#msg{margin-top:12px;font-weight:600}small{color:#5b667a}</style>";

static const char script[] =
    "<script>function pick(m){for(const b of document.querySelectorAll('.tabs button'))"
    "b.classList.toggle('on',b.dataset.m===m);for(const p of document.querySelectorAll('.pane'))"
    "p.classList.toggle('on',p.id==='p-'+m);}"
    "async function done(outcome){const d=document.body.dataset,msg=document.getElementById('msg');"
    "msg.textContent='Sending…';try{const r=await fetch('/v1/sandbox/payments/'+d.payment+"
    "'/complete',{method:'POST',headers:{'Content-Type':'application/json'},"
    "body:JSON.stringify({outcome})});msg.textContent=r.ok?'Payment '+outcome+'.':"
    "'Refused ('+r.status+').';if(r.ok&&d.ret)setTimeout(()=>location.href=d.ret,800);}"
    "catch(e){msg.textContent='Network error.';}}</script>";

/* s with &, <, >, " and ' escaped for HTML text and attributes. */
static void html_escaped(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            strbuf_puts(sb, "&amp;");
            break;
        case '<':
            strbuf_puts(sb, "&lt;");
            break;
        case '>':
            strbuf_puts(sb, "&gt;");
            break;
        case '"':
            strbuf_puts(sb, "&quot;");
            break;
        case '\'':
            strbuf_puts(sb, "&#39;");
            break;
        default:
            strbuf_append(sb, s, 1);
        }
    }
}

static void panes(struct strbuf *sb, const struct payment_row *p)
{
    strbuf_printf(sb,
                  "<div class=\"pane\" id=\"p-upi\"><p>Pay with any UPI app:</p>"
                  "<p><a href=\"upi://pay?pa=sandbox@haat&amp;pn=haat%%20sandbox&amp;tr=%s"
                  "&amp;am=%" PRId64 ".%02" PRId64 "&amp;cu=%s\">Open UPI app</a></p>"
                  "<small>UPI intent: your app opens with the amount filled in.</small></div>",
                  p->provider_ref, p->amount_minor / 100, p->amount_minor % 100, p->currency);
    strbuf_puts(sb, "<div class=\"pane\" id=\"p-card\"><input placeholder=\"Card number "
                    "(sandbox: not sent)\" autocomplete=\"off\"><input placeholder=\"MM/YY\">"
                    "<small>Nothing typed here leaves this page.</small></div>");
    strbuf_puts(sb, "<div class=\"pane\" id=\"p-netbanking\"><select><option>State Bank of "
                    "India</option><option>HDFC Bank</option><option>ICICI Bank</option>"
                    "</select></div>");
}

char *payment_sandbox_page(const struct payment_row *p)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width\">"
                     "<title>haat sandbox checkout</title>");
    strbuf_puts(&sb, style);
    strbuf_printf(&sb, "</head><body data-payment=\"%s\" data-ret=\"", p->id);
    html_escaped(&sb, p->return_url);
    strbuf_printf(&sb,
                  "\"><main><h1>haat sandbox checkout</h1><small>Test payments only: no money "
                  "moves.</small><div class=\"amt\">&#8377;%" PRId64 ".%02" PRId64 "</div>"
                  "<small>Order %s · %s</small><div class=\"tabs\">"
                  "<button data-m=\"upi\" onclick=\"pick('upi')\">UPI</button>"
                  "<button data-m=\"card\" onclick=\"pick('card')\">Card</button>"
                  "<button data-m=\"netbanking\" onclick=\"pick('netbanking')\">Net banking"
                  "</button></div>",
                  p->amount_minor / 100, p->amount_minor % 100, p->order_id, p->provider_ref);
    panes(&sb, p);
    strbuf_printf(&sb,
                  "<div class=\"go\"><button class=\"ok\" onclick=\"done('succeeded')\">Succeed"
                  "</button><button class=\"ko\" onclick=\"done('failed')\">Fail</button></div>"
                  "<div id=\"msg\"></div></main>%s<script>pick('%s');</script></body></html>",
                  script, p->method);
    return strbuf_detach(&sb, NULL);
}
