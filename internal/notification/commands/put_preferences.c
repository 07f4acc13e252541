/* PUT /v1/me/notification-preferences: {"email":{category:bool,...},"sms":{...}}.
 *
 * Categories given are stored; categories and channels left out keep their current value;
 * unknown members are ignored. A value that is not a boolean, or a channel that is not an
 * object, answers 422 validation_failed. Security messages (OTP codes) cannot be switched
 * off: "security": false answers 422 with that field named, and nothing is stored
 * ("security": true is accepted and changes nothing). Answers 200 with the full, updated
 * preferences, read back inside the transaction that stored them. */
#include "internal/notification/internal.h"
#include "pkg/json/jsonh.h"

#define MAX_CHOICES (NOTIFY_NCHANNELS * 16)

struct choices {
    const char *channel[MAX_CHOICES];
    const char *category[MAX_CHOICES];
    bool enabled[MAX_CHOICES];
    size_t n;
};

/* Validates one channel's object, adding the switchable choices it makes. */
static void parse_channel(const json_t *obj, const char *channel, struct choices *c,
                          struct jsonh_errors *errs)
{
    char field[64];
    if (!json_is_object(obj)) {
        jsonh_errors_add(errs, channel, "must be an object of category: boolean");
        return;
    }
    for (size_t k = 0; k < notify_ncategories; k++) {
        const struct notify_category *cat = &notify_categories[k];
        const json_t *v = json_object_get(obj, cat->name);
        if (!v)
            continue;
        snprintf(field, sizeof field, "%s.%s", channel, cat->name);
        if (!json_is_boolean(v)) {
            jsonh_errors_add(errs, field, "must be a boolean");
        } else if (!cat->switchable && json_is_false(v)) {
            jsonh_errors_add(errs, field, "security messages cannot be switched off");
        } else if (cat->switchable && c->n < MAX_CHOICES) {
            c->channel[c->n] = channel;
            c->category[c->n] = cat->name;
            c->enabled[c->n] = json_is_true(v);
            c->n++;
        }
    }
}

/* The choices the body makes, or false after replying 422 with every invalid field. */
static bool choices_or_reply(struct http_req *r, struct choices *c)
{
    json_t *body = http_req_json(r); /* borrowed */
    struct jsonh_errors errs;
    jsonh_errors_init(&errs);
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++) {
        const char *name = notify_channel_name((enum notify_channel)ch);
        const json_t *obj = json_object_get(body, name);
        if (obj)
            parse_channel(obj, name, c, &errs);
    }
    return http_errors_or_reply(r, &errs);
}

struct put_txn {
    struct http_req *r;
    const char *user_id;
    const struct choices *c;
};

/* Stores the choices and replies 200 with the preferences read back in the same
 * transaction. */
static enum db_status put_txn(struct db_conn *db, void *arg)
{
    const struct put_txn *t = arg;
    const struct choices *c = t->c;
    json_t *prefs = NULL;
    enum db_status st =
        notify_repo_prefs_put(db, t->user_id, c->channel, c->category, c->enabled, c->n);
    if (st == DB_OK)
        st = notify_repo_prefs_get(db, t->user_id, &prefs);
    if (st == DB_OK)
        http_reply_json(t->r, 200, prefs);
    return st;
}

void notify_put_preferences(struct http_req *r)
{
    struct choices c = {.n = 0};
    if (!choices_or_reply(r, &c))
        return;
    struct put_txn t = {.r = r, .user_id = http_req_principal(r)->user_id, .c = &c};
    enum db_status st = http_txn(r, put_txn, &t);
    if (st != DB_OK)
        http_reply_db(r, st);
}
