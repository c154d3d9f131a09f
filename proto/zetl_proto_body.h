/*  zetl_proto_body - the body check beyond zetl_proto.h

    Internal to proto/ and its tests: the public body API (writer, reader) is
    in zetl_proto.h. zetl_body_check is the reference the counted reader is
    held to (the same verdicts and reasons), in the unit and fuzz tests.
*/
#ifndef ZETL_PROTO_BODY_H_INCLUDED
#define ZETL_PROTO_BODY_H_INCLUDED

#include <czmq.h>
#include <stdint.h>

//  Check that BODY (borrowed) holds a source names array and exactly COUNT
//  well-formed entries, nothing more, building nothing. Returns NULL, or a
//  static string saying what was wrong.
const char *zetl_body_check (zframe_t *body, uint32_t count);

#endif
