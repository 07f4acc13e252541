/* The chat module's start-up: statements, settings, and the real-time side (the listener
 * subscription and the stream pump). */
#include <stdio.h>
#include <string.h>

#include "internal/chat/internal.h"
#include "pkg/http/stream.h"
#include "pkg/listen/listen.h"
#include "pkg/log/log.h"

struct chat_settings chat_cfg = {
    .streams_max = 1000, .streams_per_user = 5, .heartbeat_s = 15, .sends_per_min = 30};

int chat_init(const struct cfg *c)
{
    chat_repo_register();
    chat_repo_safety_register();
    chat_repo_stream_register();
    chat_cfg.streams_max = c->chat_streams_max;
    chat_cfg.streams_per_user = c->chat_streams_per_user;
    chat_cfg.heartbeat_s = c->chat_heartbeat_s;
    chat_cfg.sends_per_min = c->limit_chat_per_min;
    return 0;
}

/* A NOTIFY on CHAT_CHANNEL: "<conversation> <buyer> <seller> <message>". */
static void on_message(const char *channel, const char *payload, void *arg)
{
    char conv[IDS_UUID_LEN], buyer[IDS_UUID_LEN], seller[IDS_UUID_LEN];
    if (sscanf(payload, "%36s %36s %36s", conv, buyer, seller) != 3) {
        log_warn("chat_bad_notify", "chat: unexpected notification payload");
        return;
    }
    chat_streams_notify(conv, buyer, seller);
}

static void on_reconnect(void *arg)
{
    chat_streams_recheck(); /* notifications sent while the listener was away are lost */
}

int chat_streams_start(const struct cfg *c)
{
    http_stream_set_max(chat_cfg.streams_max);
    if (listen_subscribe(CHAT_CHANNEL, on_message, NULL) != 0 ||
        listen_on_reconnect(on_reconnect, NULL) != 0 || chat_pump_start() != 0)
        return -1;
    if (listen_start(c->database_url) != 0) {
        chat_pump_stop(1000);
        return -1;
    }
    return 0;
}

bool chat_streams_stop(int grace_ms)
{
    bool ok = listen_stop(grace_ms);
    return chat_pump_stop(grace_ms) && ok;
}
