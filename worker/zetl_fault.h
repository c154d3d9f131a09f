/*  zetl_fault - faults a worker can be told to inject, to prove recovery

    Read once from the environment when the worker starts; both unset in
    normal operation, when zetl_fault_check costs one test:

    ZETL_FAULT_CRASH_ON=TEXT   a batch with a record to process whose
                               packed bytes hold TEXT makes the worker
                               abort(), as a bug would
    ZETL_FAULT_ERROR_ON=TEXT   such a batch is refused for its data
                               (ERROR DATA), as a record no step can read
    ZETL_FAULT_SLOW_MS=N       each batch takes N ms more (1 to 60000), as
                               heavy transforms would: load for the
                               autoscaling signal to see

    Dead letters and positions passing through are not looked at: the
    worker does not process them either.

    A record carrying TEXT (in a string field, say) is thus a poison record
    of either kind; docs/FAULTS.md shows what the coordinator does with it.
*/
#ifndef ZETL_FAULT_H_INCLUDED
#define ZETL_FAULT_H_INCLUDED

#include <czmq.h>

typedef struct {
    const char *crash_on;  //  borrowed from the environment, or NULL
    const char *error_on;
    int slow_ms;  //  added to each batch, 0 none
} zetl_fault_t;

//  Read the faults asked for into SELF (logged when any is set)
void zetl_fault_init (zetl_fault_t *self, const char *worker);
//  Act on BODY: abort() if it holds crash_on; sleep slow_ms. Returns true
//  if it holds error_on (the batch must be refused), else false.
bool zetl_fault_check (const zetl_fault_t *self, zframe_t *body);

#endif
