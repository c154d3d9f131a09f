/*  zetl_fault - faults a worker can be told to inject, to prove recovery  */
#include "zetl_fault.h"
#include "zetl_log.h"
#include "zetl_proto.h"

#include <string.h>

static const char *
s_env (const char *name)
{
    const char *value = getenv (name);
    return value && *value ? value : NULL;
}

void
zetl_fault_init (zetl_fault_t *self, const char *worker)
{
    self->crash_on = s_env ("ZETL_FAULT_CRASH_ON");
    self->error_on = s_env ("ZETL_FAULT_ERROR_ON");
    const char *slow = s_env ("ZETL_FAULT_SLOW_MS");
    self->slow_ms = slow ? atoi (slow) : 0;
    if (self->slow_ms < 0 || self->slow_ms > 60000)
        self->slow_ms = 0;
    if (self->crash_on || self->error_on || self->slow_ms)
        zetl_log_warn ("worker", "faults_injected",
                       json_pack ("{s:s, s:s?, s:s?, s:i}", "name", worker, "crash_on",
                                  self->crash_on, "error_on", self->error_on, "slow_ms",
                                  self->slow_ms));
}

//  Whether a record of BODY to be processed (not a dead letter or position
//  passing through) holds TEXT
static bool
s_holds (zframe_t *body, const char *text)
{
    if (!text || !body)
        return false;
    const char *reason = NULL;
    zetl_body_reader_t *reader = zetl_body_reader_new (body, &reason);
    zetl_entry_t entry;
    bool holds = false;
    while (!holds && reader && zetl_body_reader_next_packed (reader, &entry, &reason) == 1)
        holds = !(entry.flags & ZETL_ENTRY_PASS_THROUGH)
                && memmem (entry.packed, entry.packed_size, text, strlen (text));
    zetl_body_reader_destroy (&reader);
    return holds;
}

bool
zetl_fault_check (const zetl_fault_t *self, zframe_t *body)
{
    if (s_holds (body, self->crash_on)) {
        zetl_log_error ("worker", "fault_crash",
                        json_pack ("{s:s}", "hint", "ZETL_FAULT_CRASH_ON matched a record"));
        abort ();
    }
    if (self->slow_ms)
        zclock_sleep (self->slow_ms);  //  The injected fault: a slow batch
    return s_holds (body, self->error_on);
}
