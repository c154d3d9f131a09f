/*  zetl_localredis - a throwaway Redis server in a directory of its own

    zetlctl up starts one when the configuration names no Redis, and tests
    start one in a temporary directory. It runs redis-server
    (/usr/bin/redis-server, else from PATH) as a child process, in the
    foreground (no daemonizing: we keep its pid), with a configuration
    written to DIR/redis.conf: a unix socket DIR/redis.sock only (port 0:
    no TCP), its log in DIR/redis.log, and by default no persistence at all
    (save "" and appendonly no). Redis runs fine as root.

    Starting blocks until the server answers PING (at most about 10 s);
    stopping asks it to shut down (SHUTDOWN, else SIGTERM, else SIGKILL)
    and waits for the process by pid: a caller that reaps every child from
    a SIGCHLD handler must not start or stop one meanwhile.
*/
#ifndef ZETL_LOCALREDIS_H_INCLUDED
#define ZETL_LOCALREDIS_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

typedef struct zetl_localredis zetl_localredis_t;

typedef struct {
    bool persistent;  //  keep the data in DIR between starts (appendonly yes, fsync every
                      //  second, and redis-server's default snapshots); default off
} zetl_localredis_options_t;

//  Start a server in DIR (created if missing) with the default options.
//  Returns the running server, or NULL with *ERROR set to a message that
//  says what failed, where, and what to do (caller owns *ERROR, free it).
//  Caller owns the result: stop it with zetl_localredis_stop.
zetl_localredis_t *zetl_localredis_start (const char *dir, char **error);

//  Same as zetl_localredis_start, with OPTIONS (NULL for the defaults).
zetl_localredis_t *zetl_localredis_start_with (const char *dir,
                                               const zetl_localredis_options_t *options,
                                               char **error);

//  Return the server's URL, "unix://DIR/redis.sock" (DIR absolute), for
//  zetl_redis_connect and ZETL_REDIS. Borrowed: valid until the server is
//  stopped.
const char *zetl_localredis_url (zetl_localredis_t *self);

//  Return the path of the server's unix socket. Borrowed, as above.
const char *zetl_localredis_socket (zetl_localredis_t *self);

//  Return the process id of redis-server.
pid_t zetl_localredis_pid (zetl_localredis_t *self);

//  Stop the server and wait until it has exited (SHUTDOWN NOSAVE, or
//  SHUTDOWN when persistent; SIGTERM if it does not answer; SIGKILL after
//  10 s), free it and set *SELF_P to NULL. Does nothing if *SELF_P is NULL.
//  A server that had to be killed is logged.
void zetl_localredis_stop (zetl_localredis_t **self_p);

//  Return the path of the redis-server program (/usr/bin/redis-server, else
//  the first on PATH), or NULL if there is none. Caller owns the result.
char *zetl_localredis_server (void);

#endif
