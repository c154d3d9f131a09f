/*  zetl_session - a worker's or sink's link to the coordinator

    Owns the DEALER connected to the coordinator and the handshake on it:
    HELLO, then WELCOME with the configuration text, which it parses and
    keeps; heartbeats every second; a coordinator silent for three intervals,
    an ERROR saying the peer is unknown, or a configuration hash it does not
    hold, make it reconnect and say HELLO again. Everything else received is
    handed to the caller. Belongs to the one thread that polls its socket.
*/
#ifndef ZETL_SESSION_H_INCLUDED
#define ZETL_SESSION_H_INCLUDED

#include "zetl_config.h"
#include "zetl_proto.h"

#define ZETL_HEARTBEAT_MS 1000  //  heartbeat interval, both ways
#define ZETL_HEARTBEAT_MISSED 3 //  silent intervals after which a peer is gone

typedef struct zetl_session zetl_session_t;

//  Create a session to ENDPOINT as ROLE named NAME; sinks give ADVERTISE, the
//  endpoint workers send results to (NULL for workers). Connects at once.
//  Caller owns the result.
zetl_session_t *zetl_session_new (const char *endpoint, zetl_role_t role, const char *name,
                                  const char *advertise);
void zetl_session_destroy (zetl_session_t **self_p);

//  The socket to poll. Borrowed: it changes on reconnect, so fetch it again
//  after every zetl_session_recv and zetl_session_tick.
zsock_t *zetl_session_socket (zetl_session_t *self);

//  Add the socket to POLLER (borrowed: must outlive the session), and keep
//  it there: each reconnect swaps the old socket for the new one in it.
void zetl_session_poll_with (zetl_session_t *self, zpoller_t *poller);

//  Receive one message when the socket is readable. Session messages
//  (WELCOME, HEARTBEAT, session ERRORs) are handled here and NULL returned;
//  any other message is returned (caller owns it).
zetl_msg_t *zetl_session_recv (zetl_session_t *self);

//  Send heartbeats and reconnect when due; BUSY is reported in heartbeats.
//  Returns the milliseconds until the next call is due.
int64_t zetl_session_tick (zetl_session_t *self, uint32_t busy);

//  Fills LOAD (ZETL_PROTO_MAX_LOAD figures, indexed by zetl_load_t) for a
//  heartbeat about to leave; returns how many it filled
typedef uint32_t (zetl_session_load_fn) (void *arg, uint64_t *load);
//  Have each heartbeat carry the figures FN gives (ARG borrowed: must
//  outlive the session).
void zetl_session_report_load (zetl_session_t *self, zetl_session_load_fn *fn, void *arg);

//  The current configuration, or NULL before the first WELCOME. Borrowed:
//  valid until zetl_session_generation changes.
const zetl_config_t *zetl_session_config (zetl_session_t *self);
//  A number that changes each time a new configuration is adopted.
uint64_t zetl_session_generation (zetl_session_t *self);
//  A number that changes on every WELCOME (also a reconnect to the same
//  configuration): workers grant their credit again then.
uint64_t zetl_session_welcomes (zetl_session_t *self);
//  True when welcomed and the configuration hash equals HASH.
bool zetl_session_holds (zetl_session_t *self, uint64_t hash);
//  The coordinator's epoch from the last WELCOME.
uint32_t zetl_session_epoch (zetl_session_t *self);

//  Send MSG to the coordinator, filling in the configuration hash. Returns 0
//  or -1 (not sent: not connected or queue full). MSG is not consumed.
int zetl_session_send (zetl_session_t *self, zetl_msg_t *msg);

//  Say HELLO again now (used when a batch names a configuration not held).
void zetl_session_rehello (zetl_session_t *self);

#endif
