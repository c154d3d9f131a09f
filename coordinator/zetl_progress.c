/*  zetl_progress - when a checkpointing source may write its state  */
#include "zetl_progress.h"
#include "zetl_checkpoint.h"
#include "zetl_pg.h"

#include <czmq.h>

#define S_MAX_TARGETS 64

typedef struct {
    int64_t *sent;  //  per partition
    char *state;
} s_mark_t;

struct zetl_progress {
    const zetl_pipeline_t *pipeline;
    zlistx_t *marks;      //  s_mark_t *, oldest first
    int64_t *committed;   //  per partition, as last read
    int64_t polled_ms;    //  when it was last read
    char *unwritten;      //  a state committed in full, not written yet
    char *known;          //  the newest state written, or the run's start
    bool ended;           //  the run is over and written so
};

static void
s_mark_destroy (void **item_p)
{
    s_mark_t *mark = (s_mark_t *) *item_p;
    if (mark) {
        free (mark->sent);
        free (mark->state);
        free (mark);
        *item_p = NULL;
    }
}

zetl_progress_t *
zetl_progress_new (const zetl_pipeline_t *pipeline)
{
    zetl_progress_t *self = (zetl_progress_t *) zmalloc (sizeof (zetl_progress_t));
    self->pipeline = pipeline;
    self->marks = zlistx_new ();
    zlistx_set_destructor (self->marks, s_mark_destroy);
    self->committed = (int64_t *) zmalloc (pipeline->partitions * sizeof (int64_t));
    return self;
}

void
zetl_progress_destroy (zetl_progress_t **self_p)
{
    zetl_progress_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->marks);
        free (self->committed);
        free (self->unwritten);
        free (self->known);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_progress_mark (zetl_progress_t *self, const int64_t *sent, const char *state)
{
    s_mark_t *mark = (s_mark_t *) zmalloc (sizeof *mark);
    mark->sent = (int64_t *) malloc (self->pipeline->partitions * sizeof (int64_t));
    assert (mark->sent);
    memcpy (mark->sent, sent, self->pipeline->partitions * sizeof (int64_t));
    mark->state = strdup (state);
    zlistx_add_end (self->marks, mark);
}

static bool
s_committed (const zetl_progress_t *self, const s_mark_t *mark)
{
    for (uint32_t partition = 0; partition < self->pipeline->partitions; partition++)
        if (mark->sent[partition] > self->committed[partition])
            return false;
    return true;
}

char *
zetl_progress_poll (zetl_progress_t *self, PGconn *conn, const char *source)
{
    if (zlistx_size (self->marks) == 0)
        return NULL;
    const char *targets[S_MAX_TARGETS];
    size_t count = 0;
    for (size_t index = 0; index < self->pipeline->target_count && index < S_MAX_TARGETS; index++)
        targets[count++] = self->pipeline->targets[index].name;
    if (zetl_pg_read_source_positions (conn, self->pipeline->id, targets, count, source,
                                       self->committed, self->pipeline->partitions))
        return NULL;
    char *state = NULL;
    s_mark_t *mark;
    while ((mark = (s_mark_t *) zlistx_first (self->marks)) && s_committed (self, mark)) {
        free (state);
        state = mark->state;
        mark->state = NULL;
        zlistx_delete (self->marks, zlistx_cursor (self->marks));
    }
    return state;
}

void
zetl_progress_begin (zetl_progress_t *self, const char *state)
{
    zlistx_purge (self->marks);
    zstr_free (&self->unwritten);
    free (self->known);
    self->known = state ? strdup (state) : NULL;
    self->ended = false;
}

bool
zetl_progress_checkpoint (zetl_progress_t *self, PGconn *conn, const char *checkpoint,
                          const char *run, bool read_all, bool now)
{
    if (self->ended || (!now && zclock_mono () - self->polled_ms < ZETL_PROGRESS_POLL_MS))
        return self->ended;
    self->polled_ms = zclock_mono ();
    char *state = zetl_progress_poll (self, conn, run);
    if (state) {
        free (self->unwritten);
        self->unwritten = state;
    }
    bool last = read_all && zlistx_size (self->marks) == 0;
    if (!self->unwritten && !last)
        return false;
    if (zetl_checkpoint_write (conn, self->pipeline->id, checkpoint,
                               self->unwritten ? self->unwritten : self->known,
                               last ? run : NULL) != 0)
        return false;  //  Logged; written on a later poll
    if (self->unwritten) {
        free (self->known);
        self->known = self->unwritten;
        self->unwritten = NULL;
    }
    self->ended = last;
    return last;
}

const char *
zetl_progress_state (const zetl_progress_t *self)
{
    return self->known;
}

size_t
zetl_progress_pending (const zetl_progress_t *self)
{
    return zlistx_size (self->marks);
}

void
zetl_progress_clear (zetl_progress_t *self)
{
    zlistx_purge (self->marks);
}
