/*  zetl_redis - connecting to Redis by URL, and checking its replies

    Every zetl process that talks to Redis (zetlctl lut, workers, the
    coordinator) connects through zetl_redis_connect, so one URL syntax works
    everywhere, from the configuration's redis: key or ZETL_REDIS:

        unix:///path/to/redis.sock[?db=N]
        redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]      (port 6379 by default)
        tcp://HOST[:PORT][/DB], or bare HOST[:PORT][/DB]
        HOST may be an IPv6 address in brackets: redis://[::1]:6379

    The connection is a blocking hiredis context with the same timeout for
    connecting and for each command. The caller owns it and closes it with
    redisFree. One context, one thread. TLS (rediss://) is not supported.
*/
#ifndef ZETL_REDIS_H_INCLUDED
#define ZETL_REDIS_H_INCLUDED

#include <hiredis/hiredis.h>

//  Connect to the Redis server at URL, waiting at most TIMEOUT_MS to
//  connect and then for each reply (0 or less: no limit, block);
//  authenticates (AUTH) and selects the database when the URL names them,
//  and checks that the server answers.
//  Returns the connection, or NULL with *ERROR set to a message naming the
//  URL (its password masked) and what to do (caller owns *ERROR, free it).
//  Caller owns the result: close it with redisFree.
redisContext *zetl_redis_connect (const char *url, int timeout_ms, char **error);

//  Return URL with its password replaced by "***", for messages and logs.
//  Caller owns the result.
char *zetl_redis_redact (const char *url);

//  Check REPLY, the answer to the command described by WHAT ("HSET
//  zetl:lut:hotels:v3"), as returned by redisCommand or redisGetReply on
//  REDIS. Returns 0 when REPLY is an answer other than an error; else -1
//  with *ERROR set to what failed: the server's error text, or the
//  connection's (REPLY NULL), with what to do (caller owns *ERROR). Borrows
//  REPLY: the caller still frees it.
int zetl_redis_check (redisContext *redis, const redisReply *reply, const char *what, char **error);

//  Run one command (redisCommand FORMAT and arguments) and check its reply
//  as zetl_redis_check does. Returns the reply (caller owns it: free it with
//  freeReplyObject), or NULL with *ERROR set (an error reply is freed).
redisReply *zetl_redis_command (redisContext *redis, char **error, const char *what,
                                const char *format, ...);

//  Read the next reply of a pipeline (redisGetReply) and check it as
//  zetl_redis_check does. Same contract as zetl_redis_command.
redisReply *zetl_redis_next_reply (redisContext *redis, const char *what, char **error);

#endif
