/*  zetl_status - what record processing returns  */
#ifndef ZETL_STATUS_H_INCLUDED
#define ZETL_STATUS_H_INCLUDED

typedef enum {
    ZETL_OK = 0,     //  done
    ZETL_RETRY = 1,  //  transient failure: try again later, never dead-letter for it
    ZETL_REJECT = 2  //  the record is bad: dead-letter it with its reason
} zetl_status_t;

#endif
