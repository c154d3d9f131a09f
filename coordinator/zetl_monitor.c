/*  zetl_monitor - connections to one of the coordinator's sockets, from socket events  */
#include "zetl_monitor.h"
#include "zetl_log.h"

struct zetl_monitor {
    zactor_t *actor;
    const char *role;
    size_t connections;
    uint64_t refused;             //  handshakes refused: a CURVE key not allowed
    zetl_log_limit_t refusals;    //  their logs
};

zetl_monitor_t *
zetl_monitor_new (zsock_t *socket, const char *role)
{
    zetl_monitor_t *self = (zetl_monitor_t *) zmalloc (sizeof (zetl_monitor_t));
    self->role = role;
    self->actor = zactor_new (zmonitor, socket);
    zstr_sendx (self->actor, "LISTEN", "ACCEPTED", "DISCONNECTED", "HANDSHAKE_FAILED_AUTH", NULL);
    zstr_sendx (self->actor, "START", NULL);
    zsock_wait (self->actor);
    return self;
}

void
zetl_monitor_destroy (zetl_monitor_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

zactor_t *
zetl_monitor_actor (zetl_monitor_t *self)
{
    return self->actor;
}

int
zetl_monitor_handle (zetl_monitor_t *self)
{
    zmsg_t *msg = zmsg_recv (self->actor);
    char *event = msg ? zmsg_popstr (msg) : NULL;
    char *value = msg ? zmsg_popstr (msg) : NULL;
    char *endpoint = msg ? zmsg_popstr (msg) : NULL;
    int change = 0;
    if (event && streq (event, "ACCEPTED")) {
        self->connections++;
        change = 1;
    }
    else if (event && streq (event, "DISCONNECTED") && self->connections > 0) {
        self->connections--;
        change = -1;
    }
    else if (event && streq (event, "HANDSHAKE_FAILED_AUTH")) {
        self->refused++;
        change = ZETL_MONITOR_REFUSED;
    }
    if (change == ZETL_MONITOR_REFUSED && zetl_log_every (&self->refusals, 10000))
        zetl_log_warn ("monitor", "connection_refused",
                       json_pack ("{s:s, s:s, s:I, s:s}", "socket", self->role, "endpoint",
                                  endpoint ? endpoint : "", "refused", (json_int_t) self->refused,
                                  "hint", "a peer whose CURVE key is not in the allowed directory"));
    else if (change)
        zetl_log_info ("monitor", change > 0 ? "connection_accepted" : "connection_closed",
                       json_pack ("{s:s, s:s, s:I}", "socket", self->role, "endpoint",
                                  endpoint ? endpoint : "", "connections",
                                  (json_int_t) self->connections));
    free (event);
    free (value);
    free (endpoint);
    zmsg_destroy (&msg);
    return change;
}

uint64_t
zetl_monitor_refused (zetl_monitor_t *self)
{
    return self->refused;
}

const char *
zetl_monitor_role (zetl_monitor_t *self)
{
    return self->role;
}

size_t
zetl_monitor_connections (zetl_monitor_t *self)
{
    return self->connections;
}
