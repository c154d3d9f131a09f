/*  zetl_peers - the workers and sinks a coordinator knows

    A registry of peers by routing id, with their role, name, liveness and
    credit. Owned by the dispatcher; peers are borrowed by the batches that
    point at them and must be detached from those before zetl_peers_remove.
*/
#ifndef ZETL_PEERS_H_INCLUDED
#define ZETL_PEERS_H_INCLUDED

#include <czmq.h>

typedef struct {
    zframe_t *routing_id;   //  owned
    char *key;              //  routing id in hex, the registry key
    int role;               //  ZETL_ROLE_WORKER or ZETL_ROLE_SINK
    char *name;             //  peer's name
    char *endpoint;         //  sinks: advertised data endpoint
    char *curve_key;        //  sinks: the CURVE key that endpoint serves with, or NULL (owned)
    int64_t last_seen_ms;   //  monotonic time of its last message
    uint32_t credit;        //  workers: batches it will still take; sinks: uncommitted batches it takes
    uint32_t assigned;      //  batches at it (workers) or uncommitted for it (sinks)
    bool stalled;           //  workers: alive, but a batch passed its deadline there; no new
                            //  batch until it shows progress (a READY naming a batch)
    bool draining;          //  workers: said DRAIN; gets no new batch, leaves by BYE
    //  Workers: the load their last heartbeat reported (zetl_load_t)
    double busy;           //  share of that interval spent processing, 0..1
    uint64_t rss_bytes;    //  resident memory, 0 unknown
    uint64_t limit_bytes;  //  its memory limit, 0 unbounded
    uint64_t lookups;      //  lookups since it started
    uint64_t lookup_hits;  //  of which from its cache
} zetl_peer_t;

typedef struct zetl_peers zetl_peers_t;

zetl_peers_t *zetl_peers_new (void);
void zetl_peers_destroy (zetl_peers_t **self_p);
//  The peer with ROUTING_ID, or NULL. Borrowed.
zetl_peer_t *zetl_peers_lookup (zetl_peers_t *self, zframe_t *routing_id);
//  Add a peer (ROUTING_ID copied). Borrowed result, valid until removed.
zetl_peer_t *zetl_peers_add (zetl_peers_t *self, zframe_t *routing_id, int role, const char *name,
                             const char *endpoint);
//  Another peer of ROLE called NAME than EXCEPT, or NULL (a restarted process).
zetl_peer_t *zetl_peers_find_name (zetl_peers_t *self, int role, const char *name,
                                   const zetl_peer_t *except);
//  Remove and free PEER.
void zetl_peers_remove (zetl_peers_t *self, zetl_peer_t *peer);
//  Iterate all peers (do not remove while iterating; collect first).
zetl_peer_t *zetl_peers_first (zetl_peers_t *self);
zetl_peer_t *zetl_peers_next (zetl_peers_t *self);
//  Peers of ROLE, sorted by name, in OUT (at most MAX). Returns how many.
size_t zetl_peers_of_role (zetl_peers_t *self, int role, zetl_peer_t **out, size_t max);
//  Number of peers of ROLE.
size_t zetl_peers_count (zetl_peers_t *self, int role);

#endif
