/* Module set-up and the small public functions that are not use cases. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static const struct user_seller_stats_provider *_Atomic stats_provider;

static void register_statements(void)
{
    user_repo_register_users();
    user_repo_register_auth();
    user_repo_register_admin();
}

static struct user_limits limits = {10, 20, 5000, 20000, "+91"};

void user_init(const struct cfg *c)
{
    user_seal_set_key(c ? c->data_key : NULL);
    pthread_once(&init_once, register_statements);
    if (!c)
        return;
    limits.sms_per_ip_hour = c->limit_sms_per_ip_hour;
    limits.email_per_ip_hour = c->limit_email_per_ip_hour;
    limits.sms_per_hour = c->limit_sms_per_hour;
    limits.email_per_hour = c->limit_email_per_hour;
    snprintf(limits.sms_countries, sizeof limits.sms_countries, "%s",
             c->sms_countries ? c->sms_countries : "+91");
    user_ip_bucket_configure(c->limit_auth_per_ip_min);
}

long long user_purge_unverified(void)
{
    long long n = user_repo_purge_unverified();
    if (n < 0)
        log_warn("user_purge", "could not delete unverified accounts");
    return n;
}

const struct user_limits *user_limits(void)
{
    return &limits;
}

void user_set_seller_stats_provider(const struct user_seller_stats_provider *p)
{
    atomic_store(&stats_provider, p);
}

const struct user_seller_stats_provider *user_stats_provider(void)
{
    return atomic_load(&stats_provider);
}

long long user_purge_expired(void)
{
    struct db_conn *c = db_conn(DB_PRIMARY);
    long long n = c ? user_repo_purge(c) : -1;
    if (n < 0)
        log_warn("user_purge", "could not purge expired identity rows");
    return n;
}

int user_seller_payout(struct db_conn *c, const char *seller_id, struct user_payout *out)
{
    if (user_repo_seller_payout(c, seller_id, out) == DB_OK)
        return 0;
    user_payout_cleanup(out);
    return -1;
}

int user_contact(struct db_conn *c, const char *user_id, struct user_contact_info *out)
{
    return user_repo_contact(c, user_id, out) == DB_OK ? 0 : -1;
}

void user_contact_cleanup(struct user_contact_info *ci)
{
    free(ci->email);
    free(ci->phone);
    free(ci->name);
    memset(ci, 0, sizeof *ci);
}

int user_display_names(struct db_conn *c, struct user_name *names, size_t n)
{
    if (n == 0)
        return 0;
    if (!c || user_repo_display_names(c, names, n) != DB_OK)
        return -1;
    return 0;
}

void user_payout_cleanup(struct user_payout *p)
{
    if (p->account_number) /* wiped: it was opened only for the payout call */
        sodium_memzero(p->account_number, strlen(p->account_number));
    free(p->method);
    free(p->upi_vpa);
    free(p->account_name);
    free(p->account_number);
    free(p->ifsc);
    memset(p, 0, sizeof *p);
}
