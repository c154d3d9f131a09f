/*  zetl_dispatch_luts - the dispatcher's lookup-table versions and pins

    Part of the dispatcher (zetl_dispatch_internal.h). A batch of a pipeline
    that enriches is pinned, on its first dispatch, to the versions the
    zetl_luts actor last reported, and keeps them on every later dispatch
    and in both halves of a split. The versions of uncommitted batches are
    sent to zetl_luts to be pinned in Redis: at once when a version comes
    into use, and every few seconds to renew the pins.
*/
#include "zetl_dispatch_internal.h"
#include "zetl_luts.h"

#define S_PINS_EVERY_MS 5000  //  well inside ZETL_LUTS_PIN_TTL_MS

void
zetl_dispatch_luts_start (zetl_dispatcher_t *self)
{
    self->lut_tables = zetl_luts_tables (self->args.config);
    if (zlist_size (self->lut_tables) == 0)
        return;
    self->lut_versions = (uint64_t *) zmalloc (zlist_size (self->lut_tables) * sizeof (uint64_t));
    self->luts = zactor_new (zetl_luts_actor, (void *) self->args.config);
    zpoller_add (self->poller, self->luts);
}

void
zetl_dispatch_luts_stop (zetl_dispatcher_t *self)
{
    zactor_destroy (&self->luts);
    zlist_destroy (&self->lut_tables);
    free (self->lut_versions);
    self->lut_versions = NULL;
}

//  The index of TABLE in lut_tables
static size_t
s_table_index (zetl_dispatcher_t *self, const char *table)
{
    size_t index = 0;
    for (const char *name = (const char *) zlist_first (self->lut_tables); name;
         name = (const char *) zlist_next (self->lut_tables), index++)
        if (streq (name, table))
            return index;
    assert (false);  //  Every table a pipeline names is in the list
    return 0;
}

void
zetl_dispatch_handle_luts (zetl_dispatcher_t *self)
{
    char *command = NULL, *table = NULL;
    uint64_t version = 0;
    if (zsock_recv (self->luts, "ss8", &command, &table, &version) == 0 && command
        && streq (command, "VERSION") && table) {
        size_t index = s_table_index (self, table);
        if (version > self->lut_versions[index]) {
            zetl_log_info ("dispatch", "lookup_version",
                           json_pack ("{s:s, s:I, s:I}", "table", table, "version",
                                      (json_int_t) version, "previous",
                                      (json_int_t) self->lut_versions[index]));
            self->lut_versions[index] = version;
        }
    }
    free (command);
    free (table);
}

bool
zetl_dispatch_luts_pin (zetl_dispatcher_t *self, zetl_batch_t *batch)
{
    const zetl_pipeline_t *pipeline = self->pipelines[batch->partition->pipeline].pipeline;
    if (batch->lut_count || !pipeline->enrich_count)
        return true;
    for (size_t step = 0; step < pipeline->enrich_count; step++) {
        uint64_t version = self->lut_versions[s_table_index (self, pipeline->enrich[step].table)];
        if (!version) {
            if (zetl_log_every (&self->lut_waiting, 30000))
                zetl_log_warn ("dispatch", "lookup_table_missing",
                               json_pack ("{s:s, s:s, s:s}", "pipeline", pipeline->id, "table",
                                          pipeline->enrich[step].table, "hint",
                                          "its batches wait: load the table with zetlctl lut "
                                          "load, and check that Redis is reachable"));
            return false;
        }
        batch->luts[step] = version;
    }
    batch->lut_count = (uint32_t) pipeline->enrich_count;
    self->lut_pins_due = true;
    return true;
}

void
zetl_dispatch_luts_tick (zetl_dispatcher_t *self, int64_t now)
{
    if (!self->luts || (!self->lut_pins_due && now < self->next_pins_ms))
        return;
    self->lut_pins_due = false;
    self->next_pins_ms = now + S_PINS_EVERY_MS;
    //  Each (table, version) once
    zhashx_t *seen = zhashx_new ();
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "PINS");
    for (zetl_batch_t *batch = zetl_batches_first (self->batches); batch;
         batch = zetl_batches_next (self->batches)) {
        const zetl_pipeline_t *pipeline = self->pipelines[batch->partition->pipeline].pipeline;
        for (uint32_t step = 0; step < batch->lut_count; step++) {
            char key[96];
            snprintf (key, sizeof key, "%s %" PRIu64, pipeline->enrich[step].table,
                      batch->luts[step]);
            if (zhashx_lookup (seen, key))
                continue;
            zhashx_insert (seen, key, (void *) "");
            zmsg_addstr (msg, pipeline->enrich[step].table);
            zmsg_addstrf (msg, "%" PRIu64, batch->luts[step]);
        }
    }
    zhashx_destroy (&seen);
    zmsg_send (&msg, self->luts);
}
