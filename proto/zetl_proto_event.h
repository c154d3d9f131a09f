/*  zetl_proto_event - messages of the coordinator's event socket (PUB)

    An event is two frames: the topic ("stats", "watermark", "membership")
    and a msgpack map of named fields (strings, integers or doubles), so any
    ZeroMQ client subscribing by topic can read it. PROTOCOL.md lists the
    topics and their fields. Events may be dropped (PUB), so each carries
    the whole state it reports, never a delta.
*/
#ifndef ZETL_PROTO_EVENT_H_INCLUDED
#define ZETL_PROTO_EVENT_H_INCLUDED

#include <czmq.h>
#include <jansson.h>

typedef enum { ZETL_EVENT_INT, ZETL_EVENT_STR, ZETL_EVENT_DOUBLE } zetl_event_type_t;

typedef struct {
    const char *key;         //  field name
    zetl_event_type_t type;  //  which of the values below
    int64_t i;               //  ZETL_EVENT_INT
    const char *s;           //  ZETL_EVENT_STR (borrowed)
    double d;                //  ZETL_EVENT_DOUBLE
} zetl_event_field_t;

//  Encode an event of TOPIC with FIELDS[0..COUNT). Caller owns the result.
zmsg_t *zetl_event_encode (const char *topic, const zetl_event_field_t *fields, size_t count);

//  Decode *MSG_P (destroyed, set to NULL) into a JSON object of its fields
//  with "topic" added. Returns NULL with *REASON set if malformed. Caller
//  owns the result.
json_t *zetl_event_decode (zmsg_t **msg_p, const char **reason);

#endif
