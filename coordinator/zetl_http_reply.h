/*  zetl_http_reply - the HTTP server's answers: bodies, JSON, JSON errors

    Used by the HTTP server's handlers (zetl_http, zetl_http_get,
    zetl_http_post) on libmicrohttpd's thread. Every answer carries
    Cache-Control: no-store. JSON goes out on one line ending in a newline;
    an error is {"error": {"status": N, "message": "..."}} (docs/API.md).
    Each function queues the response on CONNECTION and returns MHD's
    result; none keeps anything.
*/
#ifndef ZETL_HTTP_REPLY_H_INCLUDED
#define ZETL_HTTP_REPLY_H_INCLUDED

#include <jansson.h>
#include <microhttpd.h>

//  Queue BODY (LEN bytes, malloc'd) with STATUS and content TYPE; ALLOW
//  (may be NULL) is the Allow header of a 405; a 401 gets WWW-Authenticate.
//  Takes ownership of BODY.
enum MHD_Result zetl_http_reply (struct MHD_Connection *connection, unsigned int status, char *body,
                                 size_t len, const char *type, const char *allow);

//  Queue the status page: HTML (LEN bytes, static: never freed) with a
//  Content-Security-Policy that allows its inline script and style and
//  requests to this server only.
enum MHD_Result zetl_http_reply_page (struct MHD_Connection *connection, const char *html,
                                      size_t len);

//  Queue JSON as the reply, one line. Takes ownership of JSON.
enum MHD_Result zetl_http_reply_json (struct MHD_Connection *connection, unsigned int status,
                                      json_t *json, const char *allow);

//  {"error": {"status": STATUS, "message": MESSAGE}}. Caller owns the result.
json_t *zetl_http_error_json (unsigned int status, const char *message);

//  Queue the error STATUS with MESSAGE (copied) as the reply.
enum MHD_Result zetl_http_reply_error (struct MHD_Connection *connection, unsigned int status,
                                       const char *message, const char *allow);

#endif
