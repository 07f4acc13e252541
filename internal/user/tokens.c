/* The user record's JSON, access tokens (JWT HS256, verified without the database) and refresh
 * tokens (opaque, stored as SHA-256, rotated in families).
 *
 * Trade-off (docs/decisions/0002-stateless-access-tokens.md): the auth hook trusts a valid
 * access token for its whole life without asking the database, so a logout or a password reset
 * (refresh tokens revoked) does not stop an access token already issued: access tokens live
 * USER_ACCESS_TTL_S (15 min) only. A suspension does: the hook also refuses the users on the
 * in-memory suspension list (auth_cache.c, reloaded every USER_SUSPENDED_POLL_MS), and every
 * refresh re-reads the user, so a suspended user's refresh fails (and its family is revoked). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/util/xalloc.h"

#define CLOCK_SKEW_S 60 /* tolerated drift between instances for iat */

void user_rec_cleanup(struct user_rec *u)
{
    free(u->name);
    free(u->email);
    free(u->phone);
    if (u->password_hash) {
        sodium_memzero(u->password_hash, strlen(u->password_hash));
        free(u->password_hash);
    }
    memset(u, 0, sizeof *u);
}

unsigned user_rec_roles(const struct user_rec *u)
{
    return HTTP_ROLE_BUYER | (u->is_seller ? HTTP_ROLE_SELLER : 0u) |
           (u->is_admin ? HTTP_ROLE_ADMIN : 0u);
}

json_t *user_rec_roles_json(const struct user_rec *u)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string("buyer"));
    if (u->is_seller)
        json_array_append_new(a, json_string("seller"));
    if (u->is_admin)
        json_array_append_new(a, json_string("admin"));
    return a;
}

json_t *user_rec_json(const struct user_rec *u)
{
    return json_pack("{s:s,s:s?,s:s?,s:s?,s:b,s:b,s:o,s:s}", "id", u->id, "name", u->name, "email",
                     u->email, "phone", u->phone, "email_verified", u->email_verified,
                     "phone_verified", u->phone_verified, "roles", user_rec_roles_json(u),
                     "created_at", u->created_at);
}

char *user_access_token(const struct user_rec *u)
{
    int64_t now = clock_unix_s();
    json_t *claims = json_pack("{s:s,s:o,s:b,s:I,s:I}", "sub", u->id, "roles",
                               user_rec_roles_json(u), "pv", u->phone_verified, "iat",
                               (json_int_t)now, "exp", (json_int_t)(now + USER_ACCESS_TTL_S));
    char *token = sec_jwt_sign(claims);
    json_decref(claims);
    return token;
}

enum db_status user_refresh_issue(struct db_conn *c, const char *user_id, const char *family_id,
                                  char token[USER_REFRESH_LEN])
{
    char id[IDS_UUID_LEN], family[IDS_UUID_LEN], hash[SEC_HEX_LEN];
    ids_uuid7(id);
    if (family_id)
        memcpy(family, family_id, IDS_UUID_LEN);
    else
        ids_uuid7(family);
    sec_random_token(token, USER_REFRESH_BYTES);
    sec_hash_token(token, hash);
    return user_repo_refresh_insert(c, id, user_id, family, hash);
}

void user_add_access_token(json_t *obj, const struct user_rec *u)
{
    char *access = user_access_token(u);
    json_object_set_new(obj, "access_token", json_string(access ? access : ""));
    json_object_set_new(obj, "token_type", json_string("Bearer"));
    json_object_set_new(obj, "expires_in", json_integer(USER_ACCESS_TTL_S));
    free(access);
}

json_t *user_token_pair_json(const struct user_rec *u, const char *refresh_token)
{
    json_t *pair = json_object();
    user_add_access_token(pair, u);
    json_object_set_new(pair, "refresh_token", json_string(refresh_token));
    json_object_set_new(pair, "user", user_rec_json(u));
    return pair;
}

/* roles claim -> enum http_role bits (buyer always); false when malformed. */
static bool roles_from(const json_t *roles, unsigned *bits)
{
    size_t i;
    const json_t *v;
    if (!json_is_array(roles))
        return false;
    *bits = HTTP_ROLE_BUYER;
    json_array_foreach(roles, i, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            return false;
        if (strcmp(s, "seller") == 0)
            *bits |= HTTP_ROLE_SELLER;
        else if (strcmp(s, "admin") == 0)
            *bits |= HTTP_ROLE_ADMIN;
    }
    return true;
}

/* Beyond what sec_jwt_verify checks: our claims, an iat not in the future, and no lifetime
 * longer than we ever issue (defence in depth should anything else hold the key). */
static bool claims_ok(const json_t *cl, int64_t now, struct http_principal *who)
{
    const char *sub = json_string_value(json_object_get(cl, "sub"));
    const json_t *pv = json_object_get(cl, "pv");
    const json_t *iat = json_object_get(cl, "iat");
    json_int_t exp = json_integer_value(json_object_get(cl, "exp"));
    if (!ids_is_uuid(sub) || !json_is_boolean(pv) || !json_is_integer(iat))
        return false;
    if (json_integer_value(iat) > now + CLOCK_SKEW_S ||
        exp > now + USER_ACCESS_TTL_S + CLOCK_SKEW_S)
        return false;
    if (!roles_from(json_object_get(cl, "roles"), &who->roles))
        return false;
    memcpy(who->user_id, sub, IDS_UUID_LEN);
    who->phone_verified = json_is_true(pv);
    return true;
}

int user_authenticate(const char *bearer, struct http_principal *who)
{
    json_t *claims = NULL;
    int64_t now = clock_unix_s();
    struct http_principal p;
    memset(&p, 0, sizeof p);
    if (sec_jwt_verify(bearer, now, &claims) != 0)
        return -1;
    bool ok = claims_ok(claims, now, &p);
    json_decref(claims);
    if (!ok || user_auth_cache_refuses(p.user_id))
        return -1;
    *who = p;
    return 0;
}
