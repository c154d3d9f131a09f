/*  zetl_proto_sinks - the body of SINKS: the set of sinks and their data endpoints

    The coordinator sends it to each worker when the sink set changes; a
    worker keeps one DEALER per entry.
*/
#ifndef ZETL_PROTO_SINKS_H_INCLUDED
#define ZETL_PROTO_SINKS_H_INCLUDED

#include <czmq.h>

//  Encode NAMES[i] -> ENDPOINTS[i], COUNT entries, as a SINKS body; with
//  KEYS (or NULL) an entry whose KEYS[i] is set also carries the CURVE
//  public key the sink's data endpoint serves with. Caller owns the result.
zframe_t *zetl_sinks_encode (const char *const *names, const char *const *endpoints,
                             const char *const *keys, size_t count);
//  Decode a SINKS body into a hash name -> endpoint (both strings owned by
//  the hash; a name given twice keeps its last endpoint) and, when KEYS is
//  not NULL, *KEYS, a hash name -> CURVE key of the entries that carry one.
//  Returns NULL if the body is malformed: not one array of [name, endpoint]
//  or [name, endpoint, key] entries of str, each 1 to ZETL_PROTO_MAX_STRING
//  bytes of UTF-8 without NUL, or bytes after it. Lengths the body declares
//  are checked before anything is made for them, so a few hostile bytes
//  cannot ask for much memory. Caller owns the results.
zhashx_t *zetl_sinks_decode (zframe_t *body, zhashx_t **keys);

#endif
