/*  zetl_monitor - connections to one of the coordinator's sockets, from socket events

    Wraps czmq's zmonitor on a ROUTER the coordinator binds (workers, sinks,
    producers): it counts the connections accepted and not yet closed, and
    logs each connection and disconnection with the socket's role (the
    dispatcher also publishes them: the "connection" event). Counts and logs
    only: libzmq's events do not say which peer it was, so liveness comes
    from heartbeats (PROTOCOL.md §7), never from here.
*/
#ifndef ZETL_MONITOR_H_INCLUDED
#define ZETL_MONITOR_H_INCLUDED

#include <czmq.h>

typedef struct zetl_monitor zetl_monitor_t;

//  Start monitoring SOCKET, whose peers are ROLE ("workers"; borrowed:
//  must outlive the monitor). Caller owns the result.
zetl_monitor_t *zetl_monitor_new (zsock_t *socket, const char *role);
void zetl_monitor_destroy (zetl_monitor_t **self_p);
//  The actor to poll: call zetl_monitor_handle when it is readable.
zactor_t *zetl_monitor_actor (zetl_monitor_t *self);
#define ZETL_MONITOR_REFUSED 2  //  zetl_monitor_handle: a handshake refused

//  Take one event. Returns 1 when it was a connection accepted, -1 when
//  one closed, ZETL_MONITOR_REFUSED when a handshake was refused (a CURVE
//  key not allowed: counted, and logged at most every 10 s), 0 otherwise.
int zetl_monitor_handle (zetl_monitor_t *self);
//  Handshakes refused so far.
uint64_t zetl_monitor_refused (zetl_monitor_t *self);
//  The role given at creation ("workers").
const char *zetl_monitor_role (zetl_monitor_t *self);
//  Connections open now.
size_t zetl_monitor_connections (zetl_monitor_t *self);

#endif
