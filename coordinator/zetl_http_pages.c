/*  zetl_http_pages - where an HTTP JSON API's pages are, and where to resume  */
#include "zetl_http_pages.h"

#include <curl/curl.h>
#include <czmq.h>
#include <jansson.h>
#include <limits.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

struct zetl_http_pages {
    const zetl_source_t *source;
    //  The request: where the page to fetch now is
    char *url;       //  next_link: the page's URL
    char *cursor;    //  cursor: the cursor, or NULL for the first page
    int64_t offset;  //  offset: the first record's offset
    //  The page read
    const char *body;   //  borrowed from the fetch
    jsmntok_t *tokens;  //  the body's tokens
    size_t token_cap;   //  tokens allocated
    size_t *records;    //  index in tokens of each record
    size_t record_cap;  //  entries allocated in records
    size_t count;       //  records in the page
    char *next;         //  its next link (resolved) or cursor, or NULL
};

zetl_http_pages_t *
zetl_http_pages_new (const zetl_source_t *source)
{
    zetl_http_pages_t *self = (zetl_http_pages_t *) zmalloc (sizeof (zetl_http_pages_t));
    self->source = source;
    zetl_http_pages_rewind (self);
    return self;
}

void
zetl_http_pages_destroy (zetl_http_pages_t **self_p)
{
    assert (self_p);
    zetl_http_pages_t *self = *self_p;
    if (self) {
        free (self->url);
        free (self->cursor);
        free (self->tokens);
        free (self->records);
        free (self->next);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_http_pages_rewind (zetl_http_pages_t *self)
{
    free (self->url);
    self->url = strdup (self->source->url);
    zstr_free (&self->cursor);
    self->offset = 0;
}

int
zetl_http_pages_restore (zetl_http_pages_t *self, const char *state)
{
    zetl_http_pages_rewind (self);
    if (!state)
        return 0;
    json_t *json = json_loads (state, 0, NULL);
    json_t *value = NULL;
    int rc = -1;
    if (json_is_object (json))
        switch (self->source->pagination) {
        case ZETL_PAGES_NONE:
            rc = 0;
            break;
        case ZETL_PAGES_NEXT_LINK:
            value = json_object_get (json, "url");
            if (json_is_string (value) && (!strncmp (json_string_value (value), "http://", 7) ||
                                           !strncmp (json_string_value (value), "https://", 8))) {
                free (self->url);
                self->url = strdup (json_string_value (value));
                rc = 0;
            }
            break;
        case ZETL_PAGES_CURSOR:
            value = json_object_get (json, "cursor");
            if (json_is_string (value))
                self->cursor = strdup (json_string_value (value));
            rc = json_is_string (value) || json_is_null (value) ? 0 : -1;
            break;
        case ZETL_PAGES_OFFSET:
            value = json_object_get (json, "offset");
            if (json_is_integer (value) && json_integer_value (value) >= 0) {
                self->offset = json_integer_value (value);
                rc = 0;
            }
            break;
        }
    json_decref (json);
    return rc;
}

char *
zetl_http_pages_state (const zetl_http_pages_t *self)
{
    json_t *json = NULL;
    switch (self->source->pagination) {
    case ZETL_PAGES_NONE:
        json = json_object ();
        break;
    case ZETL_PAGES_NEXT_LINK:
        json = json_pack ("{s:s}", "url", self->url);
        break;
    case ZETL_PAGES_CURSOR:
        json = json_pack ("{s:s?}", "cursor", self->cursor);
        break;
    case ZETL_PAGES_OFFSET:
        json = json_pack ("{s:I}", "offset", (json_int_t) self->offset);
        break;
    }
    char *text = json_dumps (json, JSON_COMPACT);
    json_decref (json);
    return text;
}

//  BASE with NAME=VALUE appended to its query (URL-encoded), or NULL.
//  Caller frees.
static char *
s_with_param (const char *base, const char *name, const char *value)
{
    CURLU *url = curl_url ();
    char *query = zsys_sprintf ("%s=%s", name, value);
    char *text = NULL, *result = NULL;
    if (curl_url_set (url, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set (url, CURLUPART_QUERY, query, CURLU_APPENDQUERY | CURLU_URLENCODE) ==
            CURLUE_OK &&
        curl_url_get (url, CURLUPART_URL, &text, 0) == CURLUE_OK)
        result = strdup (text);
    curl_free (text);
    free (query);
    curl_url_cleanup (url);
    return result;
}

char *
zetl_http_pages_url (zetl_http_pages_t *self)
{
    const zetl_source_t *source = self->source;
    char *url = NULL;
    if (source->pagination == ZETL_PAGES_NEXT_LINK)
        return strdup (self->url);
    if (source->pagination == ZETL_PAGES_CURSOR && self->cursor)
        url = s_with_param (source->url, source->cursor_param, self->cursor);
    else if (source->pagination == ZETL_PAGES_OFFSET) {
        char number[32];
        snprintf (number, sizeof number, "%" PRId64, self->offset);
        char *with_offset = s_with_param (source->url, source->offset_param, number);
        snprintf (number, sizeof number, "%" PRId64, source->page_size);
        url = with_offset ? s_with_param (with_offset, source->limit_param, number) : NULL;
        free (with_offset);
    }
    //  The config loader checked url: a URL libcurl cannot parse is used as
    //  it is, and the request's error says what is wrong with it
    return url ? url : strdup (source->url);
}

//  The token after TOKEN and everything inside it
static size_t
s_skip (const zetl_http_pages_t *self, size_t token, size_t count)
{
    size_t next = token + 1;
    while (next < count && self->tokens[next].start < self->tokens[token].end)
        next++;
    return next;
}

//  The token at dotted PATH from the root (NULL or "": the root), or
//  SIZE_MAX. A key given twice: the last one, as jansson reads it.
static size_t
s_find (const zetl_http_pages_t *self, const char *path, size_t count)
{
    size_t at = 0;
    while (path && *path) {
        size_t len = strcspn (path, ".");
        if (self->tokens[at].type != JSMN_OBJECT)
            return SIZE_MAX;
        size_t found = SIZE_MAX, key = at + 1;
        for (int pair = 0; pair < self->tokens[at].size && key + 1 < count; pair++) {
            const jsmntok_t *tok = &self->tokens[key];
            if ((size_t) (tok->end - tok->start) == len &&
                memcmp (self->body + tok->start, path, len) == 0)
                found = key + 1;
            key = s_skip (self, key + 1, count);
        }
        if (found == SIZE_MAX)
            return SIZE_MAX;
        at = found;
        path += len;
        if (*path == '.')
            path++;
    }
    return at;
}

//  The next value of the page: a string (unescaped) or a number, or NULL
//  when it is missing, null, false or empty. Caller frees.
static char *
s_next_value (const zetl_http_pages_t *self, size_t count)
{
    size_t at = s_find (self, self->source->next, count);
    if (at == SIZE_MAX)
        return NULL;
    const jsmntok_t *tok = &self->tokens[at];
    const char *text = self->body + tok->start;
    size_t len = (size_t) (tok->end - tok->start);
    if (tok->type == JSMN_PRIMITIVE)
        return (text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) ? strndup (text, len) : NULL;
    if (tok->type != JSMN_STRING || len == 0)
        return NULL;
    //  jansson undoes the escapes: "https:\/\/api\/items?page=2"
    json_t *string = json_loadb (text - 1, len + 2, JSON_DECODE_ANY, NULL);
    char *value = json_is_string (string) && json_string_length (string)
                      ? strdup (json_string_value (string))
                      : NULL;
    json_decref (string);
    return value;
}

//  LINK resolved against BASE (a relative link, RFC 3986), or NULL. Caller frees.
static char *
s_resolve (const char *base, const char *link)
{
    CURLU *url = curl_url ();
    char *text = NULL, *result = NULL;
    if (curl_url_set (url, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set (url, CURLUPART_URL, link, 0) == CURLUE_OK &&
        curl_url_get (url, CURLUPART_URL, &text, 0) == CURLUE_OK)
        result = strdup (text);
    curl_free (text);
    curl_url_cleanup (url);
    return result;
}

//  Tokenize the body with jsmn; returns the token count, or -1
static int
s_tokenize (zetl_http_pages_t *self, const char *body, size_t len)
{
    jsmn_parser parser;
    jsmn_init (&parser);
    int needed = jsmn_parse (&parser, body, len, NULL, 0);
    if (needed <= 0)
        return -1;
    if ((size_t) needed > self->token_cap) {
        self->token_cap = (size_t) needed;
        free (self->tokens);
        self->tokens = (jsmntok_t *) malloc (self->token_cap * sizeof (jsmntok_t));
        assert (self->tokens);
    }
    jsmn_init (&parser);
    return jsmn_parse (&parser, body, len, self->tokens, (unsigned int) self->token_cap);
}

const char *
zetl_http_pages_read (zetl_http_pages_t *self, const char *body, size_t len, const char *page_url,
                      const char *link_next)
{
    const zetl_source_t *source = self->source;
    self->body = body;
    self->count = 0;
    zstr_free (&self->next);
    if (len > INT_MAX)
        return "the page is too large to read";
    //  jansson is the strict check; jsmn then finds each record's exact text
    json_t *json = json_loadb (body, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
    if (!json)
        return "the body is not JSON";
    json_decref (json);
    int count = s_tokenize (self, body, len);
    if (count <= 0)
        return "the body is not JSON";
    size_t array = s_find (self, source->records, (size_t) count);
    if (array == SIZE_MAX || self->tokens[array].type != JSMN_ARRAY)
        return source->records ? "the page has no records array at source.records"
                               : "the page is not an array; set source.records";
    const jsmntok_t *tok = &self->tokens[array];
    if ((size_t) tok->size > self->record_cap) {
        self->record_cap = (size_t) tok->size;
        free (self->records);
        self->records = (size_t *) malloc (self->record_cap * sizeof (size_t));
        assert (self->records);
    }
    for (size_t element = array + 1; self->count < (size_t) tok->size;
         element = s_skip (self, element, (size_t) count))
        self->records[self->count++] = element;

    char *next = NULL;
    if (source->pagination == ZETL_PAGES_NEXT_LINK || source->pagination == ZETL_PAGES_CURSOR)
        next = source->next              ? s_next_value (self, (size_t) count)
               : link_next && *link_next ? strdup (link_next)
                                         : NULL;
    if (next && source->pagination == ZETL_PAGES_NEXT_LINK) {
        self->next = s_resolve (page_url, next);
        free (next);
        if (!self->next)
            return "its next link is not a URL";
    }
    else
        self->next = next;
    return NULL;
}

size_t
zetl_http_pages_count (const zetl_http_pages_t *self)
{
    return self->count;
}

const char *
zetl_http_pages_record (const zetl_http_pages_t *self, size_t index, size_t *len)
{
    assert (index < self->count);
    const jsmntok_t *tok = &self->tokens[self->records[index]];
    //  A string's token leaves its quotes out: the record is the whole value
    int quote = tok->type == JSMN_STRING ? 1 : 0;
    *len = (size_t) (tok->end - tok->start + 2 * quote);
    return self->body + tok->start - quote;
}

//  Follow NEXT (taken) from CURRENT (*CURRENT_P, replaced); true when the run ends
static bool
s_follow (char **current_p, char *next, size_t count)
{
    if (!next)
        return true;  //  The last page: read it again next time
    bool same = *current_p && streq (*current_p, next);
    free (*current_p);
    *current_p = next;
    return count == 0 || same;
}

bool
zetl_http_pages_advance (zetl_http_pages_t *self)
{
    const zetl_source_t *source = self->source;
    char *next = self->next;
    self->next = NULL;
    switch (source->pagination) {
    case ZETL_PAGES_NEXT_LINK:
        return s_follow (&self->url, next, self->count);
    case ZETL_PAGES_CURSOR:
        return s_follow (&self->cursor, next, self->count);
    case ZETL_PAGES_OFFSET:
        self->offset += (int64_t) self->count;
        return (int64_t) self->count < source->page_size;
    default:
        free (next);
        return true;
    }
}
