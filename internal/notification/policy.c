/* Delivery policy: the retry schedule and how provider answers are classified. Pure. */
#include "internal/notification/internal.h"

int64_t notify_backoff_ms(int failed_attempts, uint32_t rnd)
{
    if (failed_attempts < 1)
        failed_attempts = 1;
    int64_t d = NOTIFY_BACKOFF_BASE_MS;
    for (int i = 1; i < failed_attempts && d < NOTIFY_BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > NOTIFY_BACKOFF_CAP_MS)
        d = NOTIFY_BACKOFF_CAP_MS;
    int64_t half = d / 2;
    return half + (int64_t)(rnd % (uint32_t)(half + 1));
}

enum notify_result notify_after_failure(enum notify_result r, int attempts)
{
    if (r == NOTIFY_RETRY && attempts >= NOTIFY_MAX_ATTEMPTS)
        return NOTIFY_FAILED;
    return r;
}

enum notify_result notify_classify_http(long status)
{
    if (status >= 200 && status < 300)
        return NOTIFY_SENT;
    if (status == 0 || status == 408 || status == 429 || status >= 500)
        return NOTIFY_RETRY;
    return NOTIFY_FAILED;
}

enum notify_result notify_classify_smtp(bool curl_ok, long reply_code)
{
    if (curl_ok)
        return NOTIFY_SENT;
    if (reply_code >= 500 && reply_code < 600)
        return NOTIFY_FAILED;
    return NOTIFY_RETRY;
}
