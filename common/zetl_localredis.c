/*  zetl_localredis - a throwaway Redis server in a directory of its own

    See zetl_localredis.h. Layout of DIR:
        DIR/redis.conf    written at each start
        DIR/redis.sock    the unix socket
        DIR/redis.log     the server's log, and its output before it opens the log
        DIR/dump.rdb, DIR/appendonlydir/   persistent mode only
*/
#include "zetl_localredis.h"
#include "zetl_files.h"
#include "zetl_log.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_START_TIMEOUT_MS 10000  //  redis-server must answer PING within this
#define S_STOP_TIMEOUT_MS 10000   //  and exit within this after SHUTDOWN or SIGTERM
#define S_POLL_MS 10              //  poll interval while waiting for either

struct zetl_localredis {
    char *dir;        //  absolute directory, DIR
    char *socket;     //  DIR/redis.sock
    char *url;        //  "unix://DIR/redis.sock"
    char *log;        //  DIR/redis.log
    pid_t pid;        //  redis-server, our child; 0 once reaped
    bool persistent;  //  SHUTDOWN saves
};



char *
zetl_localredis_server (void)
{
    if (access ("/usr/bin/redis-server", X_OK) == 0)
        return strdup ("/usr/bin/redis-server");
    const char *path = getenv ("PATH");
    char *copy = strdup (path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *found = NULL, *saveptr = NULL;
    for (char *dir = strtok_r (copy, ":", &saveptr); dir && !found;
         dir = strtok_r (NULL, ":", &saveptr)) {
        char *candidate = zsys_sprintf ("%s/redis-server", dir);
        if (*dir && access (candidate, X_OK) == 0)
            found = candidate;
        else
            free (candidate);
    }
    free (copy);
    return found;
}



//  TEXT as a double-quoted redis.conf string. Caller owns it.
static char *
s_conf_string (const char *text)
{
    char *quoted = (char *) malloc (2 * strlen (text) + 3), *p = quoted;
    assert (quoted);
    *p++ = '"';
    for (; *text; text++) {
        if (*text == '"' || *text == '\\')
            *p++ = '\\';
        *p++ = *text;
    }
    *p++ = '"';
    *p = 0;
    return quoted;
}

//  Write DIR/redis.conf. Returns its path, or NULL with *ERROR set.
static char *
s_write_conf (zetl_localredis_t *self, char **error)
{
    char *path = zsys_sprintf ("%s/redis.conf", self->dir);
    char *dir = s_conf_string (self->dir), *sock = s_conf_string (self->socket);
    char *log = s_conf_string (self->log);
    FILE *file = fopen (path, "w");
    if (file) {
        fprintf (file,
                 "# Written by zetl at each start of this private server: no TCP, a unix\n"
                 "# socket in this directory. Edits here are lost.\n"
                 "port 0\nunixsocket %s\nunixsocketperm 700\ndir %s\nlogfile %s\n"
                 "daemonize no\nsupervised no\npidfile \"\"\n",
                 sock, dir, log);
        if (self->persistent)
            fprintf (file, "appendonly yes\nappendfsync everysec\n");
        else
            fprintf (file, "save \"\"\nappendonly no\n");
    }
    if (!file || fclose (file) != 0) {
        *error = zsys_sprintf ("cannot write %s: %s; check the permissions of %s", path,
                           strerror (errno), self->dir);
        free (path);
        path = NULL;
    }
    free (dir);
    free (sock);
    free (log);
    return path;
}

//  Start redis-server CONF in the background. Returns 0, or -1 with *ERROR set.
static int
s_spawn (zetl_localredis_t *self, const char *server, const char *conf, char **error)
{
    //  Everything the child needs is prepared before fork: after it, only
    //  async-signal-safe calls until exec
    int log_fd = open (self->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    const char *argv[] = {server, conf, NULL};
    pid_t pid = log_fd >= 0 && null_fd >= 0 ? fork () : -1;
    if (pid == 0) {
        if (chdir (self->dir) != 0) {
            //  Not fatal: the configuration holds absolute paths
        }
        //  Undo what the caller may have set for itself: exec keeps both
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        signal (SIGCHLD, SIG_DFL);
        signal (SIGPIPE, SIG_DFL);
        dup2 (null_fd, STDIN_FILENO);
        dup2 (log_fd, STDOUT_FILENO);
        dup2 (log_fd, STDERR_FILENO);
        //  The server must not inherit our sockets or pipes: a pipe held open
        //  by it would keep a test runner waiting forever
        if (close_range (3, ~0U, 0) != 0)
            for (int fd = 3; fd < 4096; fd++)
                close (fd);
        execv (argv[0], (char *const *) argv);
        _exit (127);
    }
    int saved_errno = errno;
    if (log_fd >= 0)
        close (log_fd);
    if (null_fd >= 0)
        close (null_fd);
    if (pid < 0) {
        *error = zsys_sprintf ("cannot start %s: %s%s", server,
                           log_fd < 0 ? "cannot open the log " : "", strerror (saved_errno));
        return -1;
    }
    self->pid = pid;
    return 0;
}

//  True when a Redis server answers PING on SOCKET within TIMEOUT_MS
static bool
s_answers (const char *socket, int timeout_ms)
{
    struct timeval timeout = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *redis = redisConnectUnixWithTimeout (socket, timeout);
    bool answers = false;
    if (redis && !redis->err && redisSetTimeout (redis, timeout) == REDIS_OK) {
        redisReply *reply = (redisReply *) redisCommand (redis, "PING");
        //  While loading its data, Redis answers -LOADING: not ready yet
        answers = reply && reply->type == REDIS_REPLY_STATUS;
        if (reply)
            freeReplyObject (reply);
    }
    if (redis)
        redisFree (redis);
    return answers;
}

//  Reap our child if it has exited. Returns true when it has, and its status.
static bool
s_reaped (zetl_localredis_t *self, int *status)
{
    if (self->pid <= 0)
        return true;
    pid_t done = waitpid (self->pid, status, WNOHANG);
    if (done == self->pid || (done < 0 && errno == ECHILD)) {
        self->pid = 0;
        return true;
    }
    return false;
}

//  Wait until the server answers, or fails, or the deadline passes
static int
s_wait_ready (zetl_localredis_t *self, long log_from, char **error)
{
    int64_t deadline = zclock_mono () + S_START_TIMEOUT_MS;
    int status = 0;
    while (true) {
        if (s_reaped (self, &status)) {
            char *tail = zetl_files_tail (self->log, log_from);
            *error = zsys_sprintf ("redis-server in %s exited at start (%s %d); %s says: %s", self->dir,
                               WIFSIGNALED (status) ? "signal" : "exit",
                               WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status),
                               self->log, tail);
            free (tail);
            return -1;
        }
        if (s_answers (self->socket, 500))
            return 0;
        if (zclock_mono () >= deadline)
            break;
        zclock_sleep (S_POLL_MS);
    }
    char *tail = zetl_files_tail (self->log, log_from);
    *error = zsys_sprintf ("redis-server in %s did not answer on %s within %d s; %s says: %s",
                       self->dir, self->socket, S_START_TIMEOUT_MS / 1000, self->log, tail);
    free (tail);
    return -1;
}

static void
s_free (zetl_localredis_t *self)
{
    free (self->dir);
    free (self->socket);
    free (self->url);
    free (self->log);
    free (self);
}

//  Wait for the server to exit within TIMEOUT_MS. Returns true when it has.
static bool
s_wait_exit (zetl_localredis_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    int status;
    while (!s_reaped (self, &status)) {
        if (zclock_mono () >= deadline)
            return false;
        zclock_sleep (S_POLL_MS);
    }
    return true;
}

//  Resolve DIR and name the files in it. Returns 0, or -1 with *ERROR set.
static int
s_prepare_dir (zetl_localredis_t *self, const char *dir, char **error)
{
    if (zetl_files_mkdir_parents (dir) != 0) {
        *error = zsys_sprintf ("cannot create directory %s for Redis: %s; choose a writable directory",
                           dir, strerror (errno));
        return -1;
    }
    self->dir = realpath (dir, NULL);
    if (!self->dir) {
        *error = zsys_sprintf ("cannot resolve directory %s: %s", dir, strerror (errno));
        return -1;
    }
    self->socket = zsys_sprintf ("%s/redis.sock", self->dir);
    self->url = zsys_sprintf ("unix://%s", self->socket);
    self->log = zsys_sprintf ("%s/redis.log", self->dir);
    if (strlen (self->socket) >= sizeof (((struct sockaddr_un *) 0)->sun_path)) {
        *error = zsys_sprintf ("directory %s is too long for a unix socket (at most %zu bytes); use a "
                           "shorter path",
                           self->dir, sizeof (((struct sockaddr_un *) 0)->sun_path) - 12);
        return -1;
    }
    //  redis-server would take the socket over from a server still running there
    if (s_answers (self->socket, 1000)) {
        *error = zsys_sprintf ("a Redis server is already running on %s; stop it (redis-cli -s %s "
                           "shutdown) or choose another directory",
                           self->socket, self->socket);
        return -1;
    }
    return 0;
}

zetl_localredis_t *
zetl_localredis_start (const char *dir, char **error)
{
    return zetl_localredis_start_with (dir, NULL, error);
}

zetl_localredis_t *
zetl_localredis_start_with (const char *dir, const zetl_localredis_options_t *options, char **error)
{
    assert (dir);
    assert (error);
    *error = NULL;
    zetl_localredis_t *self = (zetl_localredis_t *) calloc (1, sizeof (zetl_localredis_t));
    assert (self);
    self->persistent = options && options->persistent;
    char *server = zetl_localredis_server ();
    char *conf = NULL;
    if (!server) {
        *error = zsys_sprintf ("no redis-server in /usr/bin or on PATH; install it (apt-get install "
                           "redis-server) or set ZETL_REDIS to a running server");
        goto failed;
    }
    if (s_prepare_dir (self, dir, error) != 0 || !(conf = s_write_conf (self, error)))
        goto failed;
    struct stat st;
    long log_from = stat (self->log, &st) == 0 ? (long) st.st_size : 0;  //  Quote this start only
    if (s_spawn (self, server, conf, error) != 0)
        goto failed;
    if (s_wait_ready (self, log_from, error) != 0) {
        if (self->pid > 0) {
            kill (self->pid, SIGKILL);
            waitpid (self->pid, NULL, 0);
        }
        goto failed;
    }
    zetl_log_info ("localredis", "redis_started",
                   json_pack ("{s:s, s:i, s:s, s:b}", "dir", self->dir, "pid", (int) self->pid,
                              "server", server, "persistent", self->persistent));
    free (server);
    free (conf);
    return self;

failed:
    free (server);
    free (conf);
    s_free (self);
    return NULL;
}

const char *
zetl_localredis_url (zetl_localredis_t *self)
{
    assert (self);
    return self->url;
}

const char *
zetl_localredis_socket (zetl_localredis_t *self)
{
    assert (self);
    return self->socket;
}

pid_t
zetl_localredis_pid (zetl_localredis_t *self)
{
    assert (self);
    return self->pid;
}

//  Ask the server to shut down. Returns true when it took the command.
static bool
s_shutdown (zetl_localredis_t *self)
{
    struct timeval timeout = {1, 0};
    redisContext *redis = redisConnectUnixWithTimeout (self->socket, timeout);
    bool sent = false;
    if (redis && !redis->err && redisSetTimeout (redis, timeout) == REDIS_OK) {
        //  A server that shuts down closes the connection without a reply
        redisReply *reply =
            (redisReply *) redisCommand (redis, self->persistent ? "SHUTDOWN" : "SHUTDOWN NOSAVE");
        sent = !reply || reply->type != REDIS_REPLY_ERROR;
        if (reply)
            freeReplyObject (reply);
    }
    if (redis)
        redisFree (redis);
    return sent;
}

void
zetl_localredis_stop (zetl_localredis_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_localredis_t *self = *self_p;
        const char *how = "shutdown";
        if (!(s_shutdown (self) && s_wait_exit (self, S_STOP_TIMEOUT_MS))) {
            how = "sigterm";
            if (self->pid > 0)
                kill (self->pid, SIGTERM);
        }
        if (!s_wait_exit (self, S_STOP_TIMEOUT_MS) && self->pid > 0) {
            how = "sigkill";
            kill (self->pid, SIGKILL);
            waitpid (self->pid, NULL, 0);
            self->pid = 0;
        }
        if (strcmp (how, "sigkill") == 0)
            zetl_log_error ("localredis", "redis_stop_failed",
                            json_pack ("{s:s, s:s}", "dir", self->dir, "error",
                                       "redis-server did not exit after SHUTDOWN and SIGTERM; "
                                       "killed it"));
        else
            zetl_log_info ("localredis", "redis_stopped",
                           json_pack ("{s:s, s:s}", "dir", self->dir, "how", how));
        s_free (self);
        *self_p = NULL;
    }
}
