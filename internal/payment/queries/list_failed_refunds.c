/* `haat admin failed-refunds` (operators, from the command line): the refunds that failed for
 * good — the refund job gave up after its last retry — newest first, one JSON object a line
 * on stdout, so an operator can settle them with the provider by hand. Reads the primary. */
#include <stdio.h>
#include <stdlib.h>

#include "internal/payment/internal.h"
#include "internal/payment/payment.h"

int payment_list_failed_refunds(const struct cfg *c)
{
    if (db_init(c->database_url, c->database_read_url) != 0 || payment_init(c) != 0)
        return 1;
    json_t *list = NULL;
    enum db_status st = payment_repo_failed_refunds(db_conn(DB_PRIMARY), &list);
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        char *line = json_dumps(it, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", line);
        free(line);
    }
    json_decref(list);
    db_thread_cleanup();
    payment_cleanup();
    if (st != DB_OK) {
        fprintf(stderr, "haat: admin failed-refunds: database error (%s)\n", db_last_sqlstate());
        return 1;
    }
    return 0;
}
