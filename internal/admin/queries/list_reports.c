/* GET /v1/admin/reports (admin): reported messages, products and users, newest first, with
 * the reporter and the target; the chat module owns the reports and answers the page. */
#include "internal/admin/internal.h"
#include "internal/chat/chat.h"

void admin_list_reports(struct http_req *r)
{
    chat_list_reports(r);
}
