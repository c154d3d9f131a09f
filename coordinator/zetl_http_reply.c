/*  zetl_http_reply - the HTTP server's answers: bodies, JSON, JSON errors

    The responses libmicrohttpd sends for every handler of zetl_http: their
    headers, JSON on one line, and the error object of docs/API.md.
*/
#include "zetl_http_reply.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum MHD_Result
zetl_http_reply (struct MHD_Connection *connection, unsigned int status, char *body, size_t len,
                 const char *type, const char *allow)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                 "Bearer realm=\"zetl\"");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

enum MHD_Result
zetl_http_reply_page (struct MHD_Connection *connection, const char *html, size_t len)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (len, (void *) html, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    //  The page loads nothing from elsewhere, and whatever the status holds
    //  cannot make it do so: only its own inline code and calls to this server
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'none'; script-src 'unsafe-inline'; style-src "
                             "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
                             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response (connection, MHD_HTTP_OK, response);
    MHD_destroy_response (response);
    return rc;
}

enum MHD_Result
zetl_http_reply_json (struct MHD_Connection *connection, unsigned int status, json_t *json,
                      const char *allow)
{
    char *text = json_dumps (json, JSON_COMPACT);
    json_decref (json);
    assert (text);
    size_t len = strlen (text);
    text = (char *) realloc (text, len + 2);
    assert (text);
    text[len++] = '\n';
    text[len] = '\0';
    return zetl_http_reply (connection, status, text, len, "application/json", allow);
}

json_t *
zetl_http_error_json (unsigned int status, const char *message)
{
    return json_pack ("{s:{s:i, s:s}}", "error", "status", (int) status, "message", message);
}

enum MHD_Result
zetl_http_reply_error (struct MHD_Connection *connection, unsigned int status, const char *message,
                       const char *allow)
{
    return zetl_http_reply_json (connection, status, zetl_http_error_json (status, message), allow);
}
