/* What a one-time code may cost: the destination countries SMS may go to (HAAT_SMS_COUNTRIES)
 * and the hourly send budgets per client address and in all, for SMS and for email
 * (HAAT_LIMIT_{SMS,EMAIL}_PER_IP_HOUR, HAAT_LIMIT_{SMS,EMAIL}_PER_HOUR). The budgets are
 * counter rows in PostgreSQL (send_budgets, one per scope and clock hour), so they hold across
 * instances; a send is charged to its address first, then to the total, each with one guarded
 * upsert that refuses past the limit. */
#include <stdio.h>
#include <string.h>

#include "internal/user/internal.h"

bool user_sms_country_allowed(const char *e164)
{
    const char *list = user_limits()->sms_countries;
    for (const char *p = list; e164 && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n && strncmp(e164, p, n) == 0)
            return true;
        p += n;
    }
    return false;
}

/* Charges one send to scope, up to limit this hour; *over when it is spent. */
static enum db_status charge(struct db_conn *c, const char *scope, int limit, bool *over,
                             int *retry_after)
{
    if (limit <= 0) {
        *over = true;
        return user_repo_budget_wait(c, retry_after);
    }
    enum db_status st = user_repo_budget_take(c, scope, limit, retry_after);
    if (st == DB_NOT_FOUND) {
        *over = true;
        return DB_OK;
    }
    return st;
}

enum db_status user_send_budget_take(struct db_conn *c, const char *channel, const char *client,
                                     int *retry_after)
{
    const struct user_limits *l = user_limits();
    bool sms = strcmp(channel, "sms") == 0, over = false;
    char scope[96];
    *retry_after = 0;
    enum db_status st = DB_OK;
    if (client && *client) {
        snprintf(scope, sizeof scope, "%s:ip:%s", channel, client);
        st = charge(c, scope, sms ? l->sms_per_ip_hour : l->email_per_ip_hour, &over, retry_after);
    }
    if (st == DB_OK && !over) {
        snprintf(scope, sizeof scope, "%s:*", channel);
        st = charge(c, scope, sms ? l->sms_per_hour : l->email_per_hour, &over, retry_after);
    }
    if (st == DB_OK && !over)
        *retry_after = 0;
    return st;
}
