/*  zetl_ctl_top_view - what `zetlctl top` shows: the latest state of a cluster

    Private to ctl/zetl_ctl_top*.c. Built from the coordinator's events, as
    zetl_event_decode gives them (PROTOCOL.md §12): the last "stats" of each
    pipeline, with a commit rate computed from its successive committed
    counts; its watermark ("stats", "watermark"); the last "worker" event of
    each worker; the last "autoscale" event; and the last five "membership"
    changes. Topics it does not know are ignored, and each part of the frame
    says when its events have not come (yet). zetl_ctl_top owns the view,
    feeds it and draws the frames it renders as plain text.
*/
#ifndef ZETL_CTL_TOP_VIEW_H_INCLUDED
#define ZETL_CTL_TOP_VIEW_H_INCLUDED

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

typedef struct zetl_ctl_top_view zetl_ctl_top_view_t;

//  A view of cluster CLUSTER, whose events come from ENDPOINT (both copied,
//  for the header). Caller owns the result.
zetl_ctl_top_view_t *zetl_ctl_top_view_new (const char *cluster, const char *endpoint);

//  Destroy the view and set *self_p to NULL. Does nothing if *self_p is NULL.
void zetl_ctl_top_view_destroy (zetl_ctl_top_view_t **self_p);

//  Apply EVENT (borrowed; a decoded event with its "topic"), received at
//  MONO_MS (zclock_mono) and NOW_US (wall clock, µs since the epoch).
//  Returns 0, or -1 if the view ignored it: an unknown topic, or a field it
//  needs missing or of the wrong type.
int zetl_ctl_top_view_apply (zetl_ctl_top_view_t *self, const json_t *event, int64_t mono_ms,
                             int64_t now_us);

//  Number of events applied so far.
size_t zetl_ctl_top_view_events (zetl_ctl_top_view_t *self);

//  Write one frame to OUT as plain text lines, as of MONO_MS and NOW_US: a
//  header, the pipelines, the workers and the last membership changes.
//  Workers that left, or that sent nothing for 5 s, are dropped first.
void zetl_ctl_top_view_render (zetl_ctl_top_view_t *self, FILE *out, int64_t mono_ms,
                               int64_t now_us);

#endif
