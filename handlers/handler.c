/* The request accessors and reply builders every handler uses (handlers/handler.h). */
#include "handlers/handler.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/config.h"
#include "core/mem.h"

static const char *find_param(const struct cp_param *params, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (params[i].name && !strcmp(params[i].name, name))
            return params[i].value;
    return NULL;
}

const char *cp_request_param(const struct cp_request *req, const char *name)
{
    return find_param(req->params, req->param_count, name);
}

const char *cp_request_query(const struct cp_request *req, const char *name)
{
    return find_param(req->query, req->query_count, name);
}

PGconn *cp_request_db(const struct cp_request *req)
{
    return req->db_acquire ? req->db_acquire(req->db_lease) : NULL;
}

cp_status cp_reply_json(struct cp_reply *reply, json_t *body)
{
    json_decref(reply->body);
    reply->body = body;
    return CP_OK;
}

cp_status cp_request_authorize_admin(const struct cp_request *req, struct cp_reply *reply)
{
    const char *token = req->config ? req->config->admin_token : NULL;
    if (!token || !*token)
        return cp_reply_problem(reply, CP_ERR_NOT_FOUND, "no resource at this path");
    const char *auth = req->authorization;
    if (!auth || strncasecmp(auth, "Bearer ", 7))
        return cp_reply_problem(reply, CP_ERR_UNAUTHORIZED,
                                "this endpoint needs an Authorization: Bearer token");
    const char *given = auth + 7;
    given += strspn(given, " ");
    /* Compared as SHA-256 digests with CRYPTO_memcmp: the time taken depends on neither
     * where the first difference is nor the token's length, so a client timing the 401s
     * learns nothing of the token. */
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), want);
    SHA256((const unsigned char *)given, strlen(given), got);
    if (CRYPTO_memcmp(want, got, sizeof want) != 0)
        return cp_reply_problem(reply, CP_ERR_UNAUTHORIZED, "the Bearer token is wrong");
    return CP_OK;
}

cp_status cp_reply_created(struct cp_reply *reply, json_t *body)
{
    reply->outcome = CP_REPLY_CREATED;
    return cp_reply_json(reply, body);
}

cp_status cp_reply_accepted(struct cp_reply *reply, json_t *body)
{
    reply->outcome = CP_REPLY_ACCEPTED;
    return cp_reply_json(reply, body);
}

cp_status cp_reply_text(struct cp_reply *reply, char *text, size_t len, const char *content_type)
{
    free(reply->text);
    reply->text = text;
    reply->text_len = len;
    reply->text_type = content_type;
    return CP_OK;
}

cp_status cp_reply_problem(struct cp_reply *reply, cp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    free(reply->detail);
    reply->detail = NULL;
    if (n >= 0) {
        reply->detail = cp_malloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(reply->detail, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return st;
}

void cp_reply_cleanup(struct cp_reply *reply)
{
    json_decref(reply->body);
    reply->body = NULL;
    free(reply->text);
    reply->text = NULL;
    reply->text_len = 0;
    reply->text_type = NULL;
    free(reply->detail);
    reply->detail = NULL;
    reply->outcome = CP_REPLY_OK;
}
