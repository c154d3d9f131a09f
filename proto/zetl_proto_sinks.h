/*  zetl_proto_sinks - the body of SINKS: the set of sinks and their data endpoints

    The coordinator sends it to each worker when the sink set changes; a
    worker keeps one DEALER per entry.
*/
#ifndef ZETL_PROTO_SINKS_H_INCLUDED
#define ZETL_PROTO_SINKS_H_INCLUDED

#include <czmq.h>

//  Encode NAMES[i] -> ENDPOINTS[i], COUNT pairs, as a SINKS body. Caller owns the result.
zframe_t *zetl_sinks_encode (const char *const *names, const char *const *endpoints, size_t count);
//  Decode a SINKS body into a hash name -> endpoint (both strings owned by
//  the hash). Returns NULL if the body is malformed. Caller owns the result.
zhashx_t *zetl_sinks_decode (zframe_t *body);

#endif
