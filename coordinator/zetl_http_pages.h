/*  zetl_http_pages - where an HTTP JSON API's pages are, and where to resume

    The paging side of the HTTP source (zetl_source_http): which URL the
    next request goes to, what a page holds (its records, its next link or
    cursor), and the state that says where reading resumes, as JSON text
    kept in zetl_checkpoints once every record before it is committed.

    A page is checked with jansson (a body that is not one JSON value, or
    lacks the records array at the configured dotted path, is refused and
    the fetch retried). Records are handed on as their exact text, found
    with jsmn: parsing them into doubles and printing them again would turn
    1591.60 into 1591.5999999999999, and zetl keeps numbers exact.

    The request and the state, by pagination:
      none       the configured url; state {}
      next_link  the page's URL; state {"url": "..."}. The next link is the
                 value at `next` (a string), or, when `next` is unset, the
                 target of a `Link: <...>; rel="next"` header (RFC 8288);
                 relative links are resolved against the URL the page came
                 from (after redirects)
      cursor     the configured url, plus cursor_param=<cursor> once there is
                 one; state {"cursor": "..."} (null: the first page). The
                 cursor is the value at `next`, a string or a number
      offset     the configured url plus offset_param=<offset> and
                 limit_param=<page_size>; state {"offset": N}
    (the configured url must not carry those parameters itself).

    When a run ends, and what the next run reads again (the state after
    the last page, which the next scheduled poll starts from):
      none       after its one page; again the same URL
      next_link, a page without a next value (missing, null, false or
      cursor     empty) is the last: again that page's own URL or cursor,
                 so records appended to it, or a next page that appears,
                 are found. A page with a next value but no records, or
                 whose next value is its own, is the last too, so an API
                 that always answers with a next value is not followed in
                 a tight loop: again from that next value.
      offset     a page with fewer than page_size records is the last:
                 again from the offset after its last record.

    Owned by one source actor.
*/
#ifndef ZETL_HTTP_PAGES_H_INCLUDED
#define ZETL_HTTP_PAGES_H_INCLUDED

#include "zetl_config.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct zetl_http_pages zetl_http_pages_t;

//  Create for SOURCE (borrowed: must outlive the result), at the first
//  page. Caller owns the result.
zetl_http_pages_t *zetl_http_pages_new (const zetl_source_t *source);

//  Destroy SELF and set *SELF_P to NULL. Does nothing if *SELF_P is NULL.
void zetl_http_pages_destroy (zetl_http_pages_t **self_p);

//  Resume from STATE (JSON text from zetl_http_pages_state; NULL: the first
//  page). Returns 0, or -1 when STATE does not fit the configured
//  pagination (then SELF is at the first page).
int zetl_http_pages_restore (zetl_http_pages_t *self, const char *state);

//  Go back to the first page.
void zetl_http_pages_rewind (zetl_http_pages_t *self);

//  The URL of the page to request now. Caller frees.
char *zetl_http_pages_url (zetl_http_pages_t *self);

//  Read the page BODY (LEN bytes, NUL-terminated, borrowed until the next
//  call or until it is freed by its owner, whichever comes first) that came
//  from PAGE_URL, with LINK_NEXT the target of its Link rel="next" header
//  (or NULL). Returns NULL, or why the page is unusable (a static string).
const char *zetl_http_pages_read (zetl_http_pages_t *self, const char *body, size_t len,
                                  const char *page_url, const char *link_next);

//  Records in the page read.
size_t zetl_http_pages_count (const zetl_http_pages_t *self);

//  The exact text of record INDEX of the page read, *LEN bytes. Borrowed
//  from the body.
const char *zetl_http_pages_record (const zetl_http_pages_t *self, size_t index, size_t *len);

//  Move past the page read: to the next page, or, when it was the last of
//  the run, to what the next run reads again. Returns true when it was the
//  last.
bool zetl_http_pages_advance (zetl_http_pages_t *self);

//  Where reading resumes now, as JSON text. Caller frees.
char *zetl_http_pages_state (const zetl_http_pages_t *self);

#endif
