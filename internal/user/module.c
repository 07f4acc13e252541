/* Module set-up and the small public functions that are not use cases. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
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

void user_init(const struct cfg *c)
{
    (void)c;
    pthread_once(&init_once, register_statements);
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
    return user_repo_seller_payout(c, seller_id, out) == DB_OK ? 0 : -1;
}

int user_contact(struct db_conn *c, const char *user_id, char **email, char **phone, char **name)
{
    return user_repo_contact(c, user_id, email, phone, name) == DB_OK ? 0 : -1;
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
    free(p->method);
    free(p->upi_vpa);
    free(p->account_name);
    free(p->account_number);
    free(p->ifsc);
    memset(p, 0, sizeof *p);
}
