/*  zetl_peers - the workers and sinks a coordinator knows  */
#include "zetl_peers.h"

struct zetl_peers {
    zhashx_t *peers;  //  key -> zetl_peer_t
};

static void
s_peer_free (void **item_p)
{
    zetl_peer_t *peer = (zetl_peer_t *) *item_p;
    if (peer) {
        zframe_destroy (&peer->routing_id);
        free (peer->key);
        free (peer->name);
        free (peer->endpoint);
        free (peer->curve_key);
        free (peer);
        *item_p = NULL;
    }
}

zetl_peers_t *
zetl_peers_new (void)
{
    zetl_peers_t *self = (zetl_peers_t *) zmalloc (sizeof (zetl_peers_t));
    self->peers = zhashx_new ();
    zhashx_set_destructor (self->peers, s_peer_free);
    return self;
}

void
zetl_peers_destroy (zetl_peers_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zhashx_destroy (&(*self_p)->peers);
        free (*self_p);
        *self_p = NULL;
    }
}

zetl_peer_t *
zetl_peers_lookup (zetl_peers_t *self, zframe_t *routing_id)
{
    char *key = zframe_strhex (routing_id);
    zetl_peer_t *peer = (zetl_peer_t *) zhashx_lookup (self->peers, key);
    free (key);
    return peer;
}

zetl_peer_t *
zetl_peers_add (zetl_peers_t *self, zframe_t *routing_id, int role, const char *name,
                const char *endpoint)
{
    zetl_peer_t *peer = (zetl_peer_t *) zmalloc (sizeof (zetl_peer_t));
    peer->routing_id = zframe_dup (routing_id);
    peer->key = zframe_strhex (routing_id);
    peer->role = role;
    peer->name = strdup (name ? name : peer->key);
    peer->endpoint = endpoint ? strdup (endpoint) : NULL;
    peer->last_seen_ms = zclock_mono ();
    zhashx_update (self->peers, peer->key, peer);
    return peer;
}

zetl_peer_t *
zetl_peers_find_name (zetl_peers_t *self, int role, const char *name, const zetl_peer_t *except)
{
    for (zetl_peer_t *peer = (zetl_peer_t *) zhashx_first (self->peers); peer;
         peer = (zetl_peer_t *) zhashx_next (self->peers))
        if (peer != except && peer->role == role && name && streq (peer->name, name))
            return peer;
    return NULL;
}

void
zetl_peers_remove (zetl_peers_t *self, zetl_peer_t *peer)
{
    zhashx_delete (self->peers, peer->key);
}

zetl_peer_t *
zetl_peers_first (zetl_peers_t *self)
{
    return (zetl_peer_t *) zhashx_first (self->peers);
}

zetl_peer_t *
zetl_peers_next (zetl_peers_t *self)
{
    return (zetl_peer_t *) zhashx_next (self->peers);
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp ((*(zetl_peer_t *const *) a)->name, (*(zetl_peer_t *const *) b)->name);
}

size_t
zetl_peers_of_role (zetl_peers_t *self, int role, zetl_peer_t **out, size_t max)
{
    size_t count = 0;
    for (zetl_peer_t *peer = (zetl_peer_t *) zhashx_first (self->peers); peer && count < max;
         peer = (zetl_peer_t *) zhashx_next (self->peers))
        if (peer->role == role)
            out[count++] = peer;
    qsort (out, count, sizeof (zetl_peer_t *), s_by_name);
    return count;
}

size_t
zetl_peers_count (zetl_peers_t *self, int role)
{
    size_t count = 0;
    for (zetl_peer_t *peer = (zetl_peer_t *) zhashx_first (self->peers); peer;
         peer = (zetl_peer_t *) zhashx_next (self->peers))
        count += peer->role == role;
    return count;
}
