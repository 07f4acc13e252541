/* Request bodies shared by several handlers: the members of the one-time-code bodies and the
 * refresh token. A use case keeps its own table for its other members. */
#include <stddef.h>
#include <string.h>

#include "internal/user/internal.h"

static const char *const channels[] = {"sms", "email", NULL};

static const struct jsonh_field addr_spec[] = {
    {.name = "channel",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = channels,
     .offset = offsetof(struct user_otp_body, channel)},
    {.name = "destination",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 254,
     .offset = offsetof(struct user_otp_body, destination)},
    {0},
};

static const struct jsonh_field code_spec[] = {
    {.name = "code",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 16,
     .offset = offsetof(struct user_otp_body, code)},
    {0},
};

/* A request for a code names the form the channel expects; a presented code keeps the one
 * message it has always had for either channel. */
static const char *bad_destination(enum user_otp_use use, const char *channel)
{
    if (use == USER_OTP_CHECK)
        return "must be a valid phone number or email address";
    return strcmp(channel, "sms") == 0
               ? "must be a phone number in E.164 form (+<country code><number>)"
               : "must be a valid email address";
}

bool user_otp_body_parse_or_reply(struct http_req *r, enum user_otp_use use,
                                  const char *const *purposes, const struct jsonh_field *rest,
                                  void *rest_out, struct user_otp_body *b)
{
    const json_t *body = http_req_json(r); /* borrowed */
    const struct jsonh_field purpose_spec[] = {
        {.name = "purpose",
         .type = JSONH_STRING,
         .flags = JSONH_REQUIRED,
         .one_of = purposes,
         .offset = offsetof(struct user_otp_body, purpose)},
        {0},
    };
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_parse(body, addr_spec, b, &e, NULL);
    if (use == USER_OTP_CHECK)
        jsonh_parse(body, code_spec, b, &e, NULL);
    if (purposes)
        jsonh_parse(body, purpose_spec, b, &e, NULL);
    if (rest)
        jsonh_parse(body, rest, rest_out, &e, NULL);
    if (b->channel && b->destination &&
        !user_destination_normalize(b->channel, b->destination, b->dest))
        jsonh_errors_add(&e, "destination", bad_destination(use, b->channel));
    else if (use == USER_OTP_SEND && b->channel && b->destination &&
             strcmp(b->channel, "sms") == 0 && !user_sms_country_allowed(b->dest))
        jsonh_errors_add(&e, "destination", "numbers of this country cannot receive our codes");
    if (b->code && !user_otp_wellformed(b->code))
        jsonh_errors_add(&e, "code", "must be 6 digits");
    return http_errors_or_reply(r, &e);
}

struct refresh_body {
    const char *refresh_token;
};

static const struct jsonh_field refresh_spec[] = {
    {.name = "refresh_token",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 512,
     .offset = offsetof(struct refresh_body, refresh_token)},
    {0},
};

bool user_refresh_body_or_reply(struct http_req *r, char hash[SEC_HEX_LEN])
{
    struct refresh_body b = {0};
    if (!http_parse_or_reply(r, refresh_spec, &b))
        return false;
    sec_hash_token(b.refresh_token, hash);
    return true;
}
