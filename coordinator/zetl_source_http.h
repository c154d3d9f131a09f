/*  zetl_source_http - a pipeline's HTTP JSON API source, as an actor

    Reads an HTTP JSON API page by page (zetl_http_fetch: GET with libcurl,
    retried with backoff on network errors, timeouts, 5xx and 429;
    zetl_http_pages: the records of each page, its next link, cursor or
    offset) and hands each record over as its exact JSON text through the
    feed (zetl_feed_jsonl_row: partition, event time, dedup key, or a dead
    letter with the raw text).

    Positions and checkpoints. The source reads in runs; each run is a
    source of its own, "<pipeline>@http-run-<n>" (n counted in
    zetl_checkpoints under the source "http"), and a record's position is
    its number in the run (0, 1, 2…). After handing over each page the
    actor marks the feed's highest positions together with the state that
    says where to resume once that page is committed (zetl_progress). Every
    ~250 ms, while reading, while waiting to retry and while idle, it reads
    what every target has committed of the run and writes the newest state
    committed in full to zetl_checkpoints; the run's last state is written
    with the run marked finished, so its zetl_offsets rows go. On start the
    checkpoint says where to resume (none: the configured url); the rows of
    a run that a crash abandoned go with the first write. A restart after a
    crash so reads again at most the pages not yet committed, under a new
    run name: they upsert as unchanged rows, and a deliberate re-read is a
    source of its own.

    A poll. Pages are read until the last (zetl_http_pages says which page
    that is and what the next poll reads again). Then the actor says
    CAUGHT_UP and waits, serving its pipe, until the run is committed and
    its last state written. With `once` it then sends EOF. Otherwise it
    waits out `schedule` (counted from the end of the last page) and polls
    again from that state: with next_link or cursor pagination the last
    page's next value if it had one, else the last page's own URL or
    cursor again; with offset pagination the offset after the last record
    read; with none the one page again. A `zetlctl refresh` request starts
    the next poll at once, and a forced one from the first page.
    An ordered pipeline holds the last records back until the watermark
    passes them, so there the wait for the commit ends with the schedule
    (with `once`: at once), and the next poll goes on in the same run until
    a poll's records are all committed.

    Errors. A header naming an environment variable that is not set is an
    error logged at start; the source then reads nothing (EOF). Outages of
    the API or of PostgreSQL delay records, never drop them: requests are
    retried forever, checkpoint writes wait for PostgreSQL to come back.
    STOP and $TERM are served throughout, a transfer under way included.

    The pipe speaks zetl_feed's protocol: CHUNK / MORE / CAUGHT_UP / STOP /
    STOPPED / EOF.
*/
#ifndef ZETL_SOURCE_HTTP_H_INCLUDED
#define ZETL_SOURCE_HTTP_H_INCLUDED

#include "zetl_feed.h"

//  ARGS is a zetl_source_args_t (its committed hash is destroyed unused:
//  each run is a new source, so nothing of it is committed yet)
void zetl_source_http_actor (zsock_t *pipe, void *args);

#endif
