/*  zetl_curve - CURVE security on zetl's sockets (czmq zcert and zauth)

    Set up once per process, before its first socket, from its own key pair
    and, for a process that connects, the server's public key. Without a key
    pair CURVE is off: every call here does nothing and sockets are in the
    clear. With one:
    - a socket that binds (the coordinator's ROUTERs and PUB, a sink's data
      ROUTER) presents the process's key and takes only clients whose public
      key is a certificate in the allowed directory: zauth checks each
      handshake, and reloads the directory as it changes;
    - a socket that connects presents the process's key and checks the
      server's: the coordinator's (ZETL_CURVE_SERVER), or the key a sink
      announced in its HELLO (the SINKS list carries it to workers).
    Key pairs are czmq certificates: NAME holds the public key, NAME_secret
    both (`zetlctl keys new NAME`). The process-wide state is set once, on
    the main thread, and only read afterwards.
*/
#ifndef ZETL_CURVE_H_INCLUDED
#define ZETL_CURVE_H_INCLUDED

#include <czmq.h>

#define ZETL_CURVE_KEY_LEN 40  //  a Z85 key's length

typedef struct {
    const char *certificate;  //  this process's key pair (NAME, NAME_secret), or NULL: CURVE off
    const char *server;       //  the coordinator's public certificate file or Z85 key, or NULL
    const char *allowed;      //  directory of client certificates a server takes, or NULL
    bool serves;              //  the process binds sockets: ALLOWED is needed
    bool connects;            //  the process connects to the coordinator: SERVER is needed
} zetl_curve_args_t;

//  Each field of ARGS that is NULL taken from the environment:
//  ZETL_CURVE_CERT, ZETL_CURVE_SERVER, ZETL_CURVE_ALLOWED.
void zetl_curve_args_from_env (zetl_curve_args_t *args);
//  Turn CURVE on for this process as ARGS says (nothing when no
//  certificate). Returns 0, or -1 with *ERROR (caller frees) saying what is
//  wrong: a certificate that does not load, a server key that is not one,
//  or one of them missing where the process needs it.
int zetl_curve_setup (const zetl_curve_args_t *args, char **error);
//  Whether CURVE is on.
bool zetl_curve_on (void);
//  This process's public key (Z85), or NULL when CURVE is off.
const char *zetl_curve_public (void);
//  Make SOCKET, about to bind, a CURVE server.
void zetl_curve_serve (zsock_t *socket);
//  Make SOCKET, about to connect, a CURVE client of the server whose
//  public key is SERVER_KEY (Z85), or of the coordinator when NULL.
void zetl_curve_connect (zsock_t *socket, const char *server_key);
//  A SUB socket subscribed to TOPIC and connected to ENDPOINT, a CURVE
//  client of the coordinator when CURVE is on. Caller owns the result.
zsock_t *zetl_curve_new_sub (const char *endpoint, const char *topic);
//  Whether TEXT is a Z85 public key.
bool zetl_curve_key_valid (const char *text);
//  Turn CURVE off again and free what setup made (at exit, once no socket uses it).
void zetl_curve_teardown (void);

#endif
