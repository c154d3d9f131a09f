/*  zetl_snapshot - the coordinator's latest status, shared between two threads  */
#include "zetl_snapshot.h"

#include <czmq.h>
#include <pthread.h>

struct zetl_snapshot {
    pthread_mutex_t mutex;  //  guards status (the pointer, not the object it points to)
    json_t *status;         //  the latest status, or NULL
};

zetl_snapshot_t *
zetl_snapshot_new (void)
{
    zetl_snapshot_t *self = (zetl_snapshot_t *) zmalloc (sizeof (zetl_snapshot_t));
    pthread_mutex_init (&self->mutex, NULL);
    return self;
}

void
zetl_snapshot_destroy (zetl_snapshot_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_snapshot_t *self = *self_p;
        json_decref (self->status);
        pthread_mutex_destroy (&self->mutex);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_snapshot_publish (zetl_snapshot_t *self, json_t **status_p)
{
    assert (self && status_p);
    json_t *status = *status_p;
    *status_p = NULL;
    pthread_mutex_lock (&self->mutex);
    json_t *previous = self->status;
    self->status = status;
    pthread_mutex_unlock (&self->mutex);
    //  Outside the lock: freeing a large status need not hold readers up
    json_decref (previous);
}

json_t *
zetl_snapshot_get (zetl_snapshot_t *self)
{
    assert (self);
    pthread_mutex_lock (&self->mutex);
#if JANSSON_THREAD_SAFE_REFCOUNT
    //  Atomic reference counts: the reader shares the immutable object
    json_t *status = json_incref (self->status);
#else
    //  Reference counts are not atomic here: the reader gets a copy of its own
    json_t *status = self->status ? json_deep_copy (self->status) : NULL;
#endif
    pthread_mutex_unlock (&self->mutex);
    return status;
}
