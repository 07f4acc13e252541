/* The routing table: every event of docs/events.md -> its declared payload fields, its
 * recipients, its preference category and whether it takes the OTP fast lane. Templates live
 * in <templates_dir>/<event>[.<role>].<channel>.txt and may use exactly these fields. */
#include <string.h>

#include "internal/notification/internal.h"

static const char *const channel_names[NOTIFY_NCHANNELS] = {"email", "sms"};

const char *notify_channel_name(enum notify_channel ch)
{
    return (unsigned)ch < NOTIFY_NCHANNELS ? channel_names[ch] : "?";
}

int notify_channel_parse(const char *name)
{
    for (int i = 0; i < NOTIFY_NCHANNELS; i++)
        if (name && strcmp(name, channel_names[i]) == 0)
            return i;
    return -1;
}

/* security: OTP codes (and password messages, should they become events); never off.
 * marketing: nothing sends it yet; opt-in. */
const struct notify_category notify_categories[] = {
    {"security", false, true},  {"account", true, true},  {"listings", true, true},
    {"orders", true, true},     {"payments", true, true}, {"chat", true, true},
    {"marketing", true, false},
};
const size_t notify_ncategories = sizeof notify_categories / sizeof notify_categories[0];

const struct notify_category *notify_category_find(const char *name)
{
    for (size_t i = 0; i < notify_ncategories; i++)
        if (name && strcmp(notify_categories[i].name, name) == 0)
            return &notify_categories[i];
    return NULL;
}

const struct nf_field notify_common_fields[] = {
    {"app_url", NF_STR, NF_DERIVED}, /* HAAT_PUBLIC_URL */
    {NULL, NF_STR, 0},
};

const struct nf_field notify_user_fields[] = {
    {"recipient_name", NF_STR, NF_DERIVED | NF_OPTIONAL}, /* from user_contact() */
    {NULL, NF_STR, 0},
};

/* ---- declared payload fields, as in docs/events.md ---- */

static const struct nf_field f_user_signed_up[] = {
    {"user_id", NF_UUID, 0}, {"name", NF_STR, 0}, {"email", NF_STR, 0},
    {"phone", NF_STR, 0},    {NULL, NF_STR, 0},
};
static const struct nf_field f_otp_requested[] = {
    {"channel", NF_STR, 0},
    {"destination", NF_STR, 0},
    {"purpose", NF_STR, 0},
    {"code_sealed", NF_STR, 0},
    {"user_id", NF_UUID, NF_OPTIONAL},
    {"expires_in", NF_INT, 0},
    {"code", NF_STR, NF_DERIVED},            /* code_sealed opened; masked in the feed */
    {"expires_minutes", NF_INT, NF_DERIVED}, /* expires_in rounded up to minutes */
    {"purpose_text", NF_STR, NF_DERIVED},    /* "verify your account", "log in", ... */
    {NULL, NF_STR, 0},
};
static const struct nf_field f_user_otp_locked[] = {
    {"user_id", NF_UUID, 0},
    {"failed_codes", NF_INT, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_seller_activated[] = {
    {"user_id", NF_UUID, 0},
    {"seller_id", NF_UUID, 0},
    {"display_name", NF_STR, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_product_published[] = {
    {"product_id", NF_UUID, 0},   {"seller_id", NF_UUID, 0}, {"title", NF_STR, 0},
    {"price_minor", NF_MONEY, 0}, {"currency", NF_STR, 0},   {NULL, NF_STR, 0},
};
static const struct nf_field f_product_sold_out[] = {
    {"product_id", NF_UUID, 0},
    {"seller_id", NF_UUID, 0},
    {"title", NF_STR, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_product_taken_down[] = {
    {"product_id", NF_UUID, 0}, {"seller_id", NF_UUID, 0}, {"title", NF_STR, 0},
    {"reason", NF_STR, 0},      {NULL, NF_STR, 0},
};
static const struct nf_field f_order_placed[] = {
    {"order_id", NF_UUID, 0},  {"buyer_id", NF_UUID, 0},
    {"seller_id", NF_UUID, 0}, {"total_minor", NF_MONEY, 0},
    {"currency", NF_STR, 0},   {"item_count", NF_INT, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_payment_succeeded[] = {
    {"payment_id", NF_UUID, 0}, {"order_id", NF_UUID, 0},      {"buyer_id", NF_UUID, 0},
    {"seller_id", NF_UUID, 0},  {"amount_minor", NF_MONEY, 0}, {"currency", NF_STR, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_payment_failed[] = {
    {"payment_id", NF_UUID, 0},    {"order_id", NF_UUID, 0}, {"buyer_id", NF_UUID, 0},
    {"amount_minor", NF_MONEY, 0}, {"currency", NF_STR, 0},  {NULL, NF_STR, 0},
};
static const struct nf_field f_order_shipped[] = {
    {"order_id", NF_UUID, 0}, {"buyer_id", NF_UUID, 0},       {"seller_id", NF_UUID, 0},
    {"carrier", NF_STR, 0},   {"tracking_number", NF_STR, 0}, {NULL, NF_STR, 0},
};
static const struct nf_field f_order_delivered[] = {
    {"order_id", NF_UUID, 0},
    {"buyer_id", NF_UUID, 0},
    {"seller_id", NF_UUID, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_order_completed[] = {
    {"order_id", NF_UUID, 0},
    {"seller_id", NF_UUID, 0},
    {"total_minor", NF_MONEY, 0},
    {"commission_minor", NF_MONEY, 0},
    {"seller_amount_minor", NF_MONEY, 0},
    {"currency", NF_STR, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_order_cancelled[] = {
    {"order_id", NF_UUID, 0},        {"buyer_id", NF_UUID, 0}, {"seller_id", NF_UUID, 0},
    {"reason", NF_STR, NF_OPTIONAL}, {"refunded", NF_BOOL, 0}, {NULL, NF_STR, 0},
};
static const struct nf_field f_payment_refunded[] = {
    {"payment_id", NF_UUID, 0},    {"order_id", NF_UUID, 0}, {"buyer_id", NF_UUID, 0},
    {"amount_minor", NF_MONEY, 0}, {"currency", NF_STR, 0},  {NULL, NF_STR, 0},
};
static const struct nf_field f_payout_paid[] = {
    {"payout_id", NF_UUID, 0}, {"seller_id", NF_UUID, 0},  {"amount_minor", NF_MONEY, 0},
    {"currency", NF_STR, 0},   {"destination", NF_STR, 0}, {NULL, NF_STR, 0},
};
static const struct nf_field f_payout_failed[] = {
    {"payout_id", NF_UUID, 0}, {"seller_id", NF_UUID, 0},  {"amount_minor", NF_MONEY, 0},
    {"currency", NF_STR, 0},   {"destination", NF_STR, 0}, {"reason", NF_STR, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_dispute_opened[] = {
    {"order_id", NF_UUID, 0}, {"buyer_id", NF_UUID, 0}, {"seller_id", NF_UUID, 0},
    {"reason", NF_STR, 0},    {NULL, NF_STR, 0},
};
static const struct nf_field f_dispute_resolved[] = {
    {"order_id", NF_UUID, 0}, {"buyer_id", NF_UUID, 0}, {"seller_id", NF_UUID, 0},
    {"outcome", NF_STR, 0},   {NULL, NF_STR, 0},
};
static const struct nf_field f_order_auto_confirmed[] = {
    {"order_id", NF_UUID, 0},
    {"buyer_id", NF_UUID, 0},
    {"seller_id", NF_UUID, 0},
    {NULL, NF_STR, 0},
};
static const struct nf_field f_message_received[] = {
    {"conversation_id", NF_UUID, 0},
    {"message_id", NF_UUID, 0},
    {"sender_id", NF_UUID, 0},
    {"recipient_id", NF_UUID, 0},
    {"product_id", NF_UUID, 0},
    {"preview", NF_STR, 0},
    {NULL, NF_STR, 0},
};

#define ONE(field)      \
    1,                  \
    {                   \
        {               \
            NULL, field \
        }               \
    }
#define BOTH                      \
    2,                            \
    {                             \
        {"buyer", "buyer_id"},    \
        {                         \
            "seller", "seller_id" \
        }                         \
    }

const struct notify_route notify_route_table[] = {
    {"user.signed_up", "account", false, false, false, ONE("user_id"), f_user_signed_up, NULL, 0},
    {NOTIFY_PRIORITY_EVENT, "security", true, true, true, ONE(NULL), f_otp_requested, NULL, 0},
    /* The owner is told once a day at most that codes alone stopped logging in. */
    {"user.otp_locked", "security", false, false, false, ONE("user_id"), f_user_otp_locked,
     "user_id", 86400},
    {"seller.activated", "account", false, false, false, ONE("user_id"), f_seller_activated, NULL,
     0},
    /* Coalesced: a product toggled draft <-> active notifies once an hour at most. */
    {"product.published", "listings", false, false, false, ONE("seller_id"), f_product_published,
     "product_id", 3600},
    {"product.sold_out", "listings", false, false, false, ONE("seller_id"), f_product_sold_out,
     "product_id", 3600},
    {"product.taken_down", "account", false, false, false, ONE("seller_id"), f_product_taken_down,
     NULL, 0},
    {"order.placed", "orders", false, false, false, BOTH, f_order_placed, NULL, 0},
    {"payment.succeeded", "payments", false, false, false, BOTH, f_payment_succeeded, NULL, 0},
    {"payment.failed", "payments", false, false, false, ONE("buyer_id"), f_payment_failed, NULL, 0},
    {"order.shipped", "orders", false, false, false, ONE("buyer_id"), f_order_shipped, NULL, 0},
    {"order.delivered", "orders", false, false, false, ONE("seller_id"), f_order_delivered, NULL,
     0},
    {"order.completed", "payments", false, false, false, ONE("seller_id"), f_order_completed, NULL,
     0},
    {"order.cancelled", "orders", false, false, false, BOTH, f_order_cancelled, NULL, 0},
    {"payment.refunded", "payments", false, false, false, ONE("buyer_id"), f_payment_refunded, NULL,
     0},
    {"payout.paid", "payments", false, false, false, ONE("seller_id"), f_payout_paid, NULL, 0},
    {"payout.failed", "payments", false, false, false, ONE("seller_id"), f_payout_failed, NULL, 0},
    {"payout.reversed", "payments", false, false, false, ONE("seller_id"), f_payout_failed, NULL,
     0},
    {"dispute.opened", "orders", false, false, false, BOTH, f_dispute_opened, NULL, 0},
    {"dispute.resolved", "orders", false, false, false, BOTH, f_dispute_resolved, NULL, 0},
    {"order.auto_confirmed", "orders", false, false, false, ONE("buyer_id"), f_order_auto_confirmed,
     NULL, 0},
    {"message.received", "chat", false, false, false, ONE("recipient_id"), f_message_received,
     "conversation_id", 600},
};
const size_t notify_nroutes = sizeof notify_route_table / sizeof notify_route_table[0];

const struct notify_route *notify_route_find(const char *event)
{
    for (size_t i = 0; event && i < notify_nroutes; i++)
        if (strcmp(notify_route_table[i].event, event) == 0)
            return &notify_route_table[i];
    return NULL;
}
