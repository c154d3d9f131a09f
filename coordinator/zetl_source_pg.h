/*  zetl_source_pg - a pipeline's PostgreSQL table source, as an actor

    Extracts the rows of `source.table` (DESIGN §8) in runs: one at start,
    then every `schedule`, or at once when `zetlctl refresh` asks (a forced
    refresh reads the whole table). Each run reads what its mode selects
    through a server-side cursor (zetl_pg_extract) and is a source of its
    own, "pg:<table>@run-<n>", whose positions are the rows' numbers in the
    run; re-read rows (at or below the extraction watermark, all of a full
    refresh) carry ZETL_ENTRY_REPROCESS, so they pass the lateness check and
    leave the watermark W alone.

    The extraction watermark (the last (updated_at, key) read) is written to
    zetl_checkpoints as "pg:<table>" only once every row up to it is
    committed at every target (zetl_progress): a crash, a failed run or an
    abandoned one (past `stale_after`) leaves it where it was, and the next
    run reads again from there. A run's zetl_offsets rows go when it ends.

    With `delete_missing` (full_refresh), a run also reads the first
    postgres target's live rows and sends, for each key the run did not see,
    that row again as a delete marker (delete_field true, event time the
    run's snapshot), which wins over older versions by last-write-wins.

    While the source or zetl's database is unreachable the actor retries
    with backoff; other pipelines go on. With `once` it runs once, waits
    for the run to commit, and sends EOF. PostgreSQL is read here, never in
    the dispatcher's loop.
*/
#ifndef ZETL_SOURCE_PG_H_INCLUDED
#define ZETL_SOURCE_PG_H_INCLUDED

#include "zetl_feed.h"

//  ARGS is a zetl_source_args_t
void zetl_source_pg_actor (zsock_t *pipe, void *args);

#endif
