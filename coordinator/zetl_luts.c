/*  zetl_luts - the coordinator's view of the lookup tables in Redis, as an actor  */
#include "zetl_luts.h"
#include "zetl_log.h"
#include "zetl_lut.h"
#include "zetl_redis.h"

#include <hiredis/hiredis.h>

#define S_RECONNECT_MS 1000  //  between connection attempts
#define S_REREAD_MS 5000     //  current versions are read again this often

typedef struct {
    const zetl_config_t *config;
    zsock_t *pipe;
    zlist_t *tables;          //  names
    zhashx_t *sent;           //  table -> version last sent, as text
    zhashx_t *pinned;         //  "table version" -> "" for the pins set last
    redisContext *command;    //  reads, pins, collection
    redisContext *listen;     //  subscribed to zetl:lut:switch
    int64_t next_try_ms;
    int64_t next_read_ms;
    bool outage_logged;
} s_luts_t;

zlist_t *
zetl_luts_tables (const zetl_config_t *config)
{
    zlist_t *tables = zlist_new ();
    zlist_autofree (tables);
    zlist_comparefn (tables, (zlist_compare_fn *) strcmp);
    for (size_t index = 0; index < config->pipeline_count; index++) {
        const zetl_pipeline_t *pipeline = &config->pipelines[index];
        for (size_t step = 0; step < pipeline->enrich_count; step++)
            if (!zlist_exists (tables, pipeline->enrich[step].table))
                zlist_append (tables, pipeline->enrich[step].table);
    }
    return tables;
}

//  Drop both connections after a failure (WHY may point into one of them:
//  it is logged first)
static void
s_disconnect (s_luts_t *self, const char *why)
{
    if (!self->outage_logged)
        zetl_log_warn ("luts", "redis_unreachable",
                       json_pack ("{s:s, s:s}", "error", why ? why : "no answer", "hint",
                                  "lookups wait for Redis; start it or set ZETL_REDIS"));
    self->outage_logged = true;
    if (self->command)
        redisFree (self->command);
    if (self->listen)
        redisFree (self->listen);
    self->command = self->listen = NULL;
    zhashx_purge (self->sent);  //  Sent again once connected: a switch may have been missed
}

//  Tell the dispatcher TABLE's VERSION unless it was the last told
static void
s_tell (s_luts_t *self, const char *table, uint64_t version)
{
    char text[24];
    snprintf (text, sizeof text, "%" PRIu64, version);
    const char *sent = (const char *) zhashx_lookup (self->sent, table);
    if (sent && !strcmp (sent, text))
        return;
    zhashx_update (self->sent, table, strdup (text));
    zsock_send (self->pipe, "ss8", "VERSION", table, version);
}

//  Read every table's current version. Returns 0, or -1 after s_disconnect
static int
s_read_versions (s_luts_t *self)
{
    for (const char *table = (const char *) zlist_first (self->tables); table;
         table = (const char *) zlist_next (self->tables)) {
        uint64_t version = 0;
        char *error = NULL;
        if (zetl_lut_current (self->command, table, &version, &error) != 0) {
            s_disconnect (self, error);
            free (error);
            return -1;
        }
        if (version)
            s_tell (self, table, version);
    }
    self->next_read_ms = zclock_mono () + S_REREAD_MS;
    return 0;
}

//  Connect both contexts and subscribe. Returns 0, or -1 after s_disconnect
static int
s_connect (s_luts_t *self)
{
    const char *url = self->config->redis ? self->config->redis : "unix:///tmp/zetl/redis.sock";
    int timeout = (int) self->config->lookup.timeout_ms;
    char *error = NULL;
    self->command = zetl_redis_connect (url, timeout, &error);
    if (self->command)
        self->listen = zetl_redis_connect (url, timeout, &error);
    redisReply *reply = NULL;
    if (self->listen) {
        reply = (redisReply *) redisCommand (self->listen, "SUBSCRIBE zetl:lut:switch");
        if (zetl_redis_check (self->listen, reply, "SUBSCRIBE zetl:lut:switch", &error) != 0) {
            if (reply)
                freeReplyObject (reply);
            reply = NULL;
        }
    }
    if (!reply) {
        s_disconnect (self, error ? error : "no answer");
        free (error);
        return -1;
    }
    freeReplyObject (reply);
    if (self->outage_logged)
        zetl_log_info ("luts", "redis_reachable", json_pack ("{}"));
    self->outage_logged = false;
    return s_read_versions (self);
}

//  Messages on the subscription: switches. Returns 0, or -1 after s_disconnect
static int
s_read_switches (s_luts_t *self)
{
    if (redisBufferRead (self->listen) != REDIS_OK) {
        s_disconnect (self, self->listen->errstr);
        return -1;
    }
    void *reply_p = NULL;
    while (redisGetReplyFromReader (self->listen, &reply_p) == REDIS_OK && reply_p) {
        redisReply *reply = (redisReply *) reply_p;
        char table[ZETL_LUT_TABLE_MAX + 1];
        uint64_t version;
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3
            && reply->element[2]->type == REDIS_REPLY_STRING
            && zetl_lut_parse_switch (reply->element[2]->str, reply->element[2]->len, table,
                                      &version) == 0
            && zlist_exists (self->tables, table))
            s_tell (self, table, version);
        freeReplyObject (reply);
        reply_p = NULL;
    }
    return 0;
}

//  PINS from the dispatcher: pin each named version, unpin those no longer
//  named and collect their tables' unpinned old versions
static void
s_pin (s_luts_t *self, zmsg_t *msg)
{
    zhashx_t *now = zhashx_new ();
    char *table, *version;
    while ((table = zmsg_popstr (msg)) && (version = zmsg_popstr (msg))) {
        char key[ZETL_LUT_TABLE_MAX + 32];
        snprintf (key, sizeof key, "%s %s", table, version);
        zhashx_update (now, key, (void *) "");
        char *error = NULL;
        if (self->command
            && zetl_lut_pin (self->command, table, strtoull (version, NULL, 10),
                             ZETL_LUTS_PIN_TTL_MS, &error) != 0) {
            zetl_log_warn ("luts", "pin_failed",
                           json_pack ("{s:s, s:s, s:s}", "table", table, "version", version,
                                      "error", error ? error : ""));
            free (error);
        }
        free (table);
        free (version);
    }
    free (table);
    for (void *item = zhashx_first (self->pinned); item && self->command;
         item = zhashx_next (self->pinned)) {
        const char *key = (const char *) zhashx_cursor (self->pinned);
        if (zhashx_lookup (now, key))
            continue;
        char old_table[ZETL_LUT_TABLE_MAX + 1];
        uint64_t old_version;
        char *error = NULL;
        if (zetl_lut_parse_switch (key, strlen (key), old_table, &old_version) == 0
            && (zetl_lut_pin (self->command, old_table, old_version, 0, &error) != 0
                || zetl_lut_gc (self->command, old_table, NULL, &error) != 0)) {
            zetl_log_warn ("luts", "unpin_failed", json_pack ("{s:s, s:s}", "version", key,
                                                              "error", error ? error : ""));
            free (error);
        }
    }
    zhashx_destroy (&self->pinned);
    self->pinned = now;
}

//  Wait for the pipe and the subscription until the next thing to do
static void
s_loop (s_luts_t *self)
{
    zsock_signal (self->pipe, 0);
    while (true) {
        int64_t now = zclock_mono ();
        if (!self->command && now >= self->next_try_ms) {
            self->next_try_ms = now + S_RECONNECT_MS;
            s_connect (self);
        }
        else if (self->command && now >= self->next_read_ms)
            s_read_versions (self);
        zmq_pollitem_t items[2] = {{zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0},
                                   {NULL, self->listen ? self->listen->fd : -1, ZMQ_POLLIN, 0}};
        int64_t wait = (self->command ? self->next_read_ms : self->next_try_ms) - zclock_mono ();
        if (zmq_poll (items, self->listen ? 2 : 1, wait > 0 ? (long) wait : 0) < 0)
            break;  //  Interrupted
        if (self->listen && (items[1].revents & ZMQ_POLLIN))
            s_read_switches (self);
        if (items[0].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (self->pipe);
            if (!msg)
                break;
            char *command = zmsg_popstr (msg);
            bool term = command && streq (command, "$TERM");
            if (command && streq (command, "PINS"))
                s_pin (self, msg);
            free (command);
            zmsg_destroy (&msg);
            if (term)
                break;
        }
    }
}

void
zetl_luts_actor (zsock_t *pipe, void *args)
{
    s_luts_t self = {.config = (const zetl_config_t *) args, .pipe = pipe};
    self.tables = zetl_luts_tables (self.config);
    self.sent = zhashx_new ();
    zhashx_set_destructor (self.sent, (zhashx_destructor_fn *) zstr_free);
    self.pinned = zhashx_new ();
    s_loop (&self);
    if (self.command)
        redisFree (self.command);
    if (self.listen)
        redisFree (self.listen);
    zhashx_destroy (&self.sent);
    zhashx_destroy (&self.pinned);
    zlist_destroy (&self.tables);
}
