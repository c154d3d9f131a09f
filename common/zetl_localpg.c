/*  zetl_localpg - a throwaway PostgreSQL server in a directory of its own

    See zetl_localpg.h. Layout of DIR:
        DIR/data/             the cluster (initdb), kept between starts
        DIR/data/zetl.conf    written at each start, included by postgresql.conf
        DIR/.s.PGSQL.<port>   the unix socket
        DIR/postgres.log      the server's log (pg_ctl -l)
        DIR/localpg.log       output of initdb and pg_ctl
*/
#include "zetl_localpg.h"
#include "zetl_files.h"
#include "zetl_log.h"

#include <czmq.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_SERVER_USER "postgres"  //  the system user the server runs as when we are root
#define S_TIMEOUT_S "60"          //  pg_ctl -t: seconds to wait for start or stop

struct zetl_localpg {
    char *dir;       //  absolute socket directory, DIR
    char *data;      //  DIR/data
    char *bindir;    //  directory of initdb, pg_ctl, postgres
    char *runuser;   //  path of runuser when we are root, else NULL
    char *user;      //  database superuser clients connect as
    char *conninfo;  //  "host=DIR port=N dbname=zetl user=U"
    int port;        //  port in the socket's name
};


static bool
s_is_executable (const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    return access (path, X_OK) == 0;
}

static bool
s_has_server_programs (const char *dir)
{
    return s_is_executable (dir, "initdb") && s_is_executable (dir, "pg_ctl") &&
           s_is_executable (dir, "postgres");
}

char *
zetl_localpg_bindir (void)
{
    //  Debian installs each major version side by side: take the newest
    char *best = NULL;
    long best_major = -1, best_minor = -1;
    DIR *versions = opendir ("/usr/lib/postgresql");
    struct dirent *entry;
    while (versions && (entry = readdir (versions))) {
        char *end;
        long major = strtol (entry->d_name, &end, 10);
        long minor = *end == '.' ? strtol (end + 1, NULL, 10) : 0;
        if (end == entry->d_name || (major < best_major) ||
            (major == best_major && minor <= best_minor))
            continue;
        char *bindir = zsys_sprintf ("/usr/lib/postgresql/%s/bin", entry->d_name);
        if (s_has_server_programs (bindir)) {
            free (best);
            best = bindir;
            best_major = major;
            best_minor = minor;
        }
        else
            free (bindir);
    }
    if (versions)
        closedir (versions);
    if (best)
        return best;

    const char *path = getenv ("PATH");
    char *copy = strdup (path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *saveptr = NULL;
    for (char *dir = strtok_r (copy, ":", &saveptr); dir && !best;
         dir = strtok_r (NULL, ":", &saveptr))
        if (*dir && s_has_server_programs (dir))
            best = strdup (dir);
    free (copy);
    return best;
}

static const char *
s_find_runuser (void)
{
    static const char *candidates[] = {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser",
                                       "/bin/runuser", NULL};
    for (const char **candidate = candidates; *candidate; candidate++)
        if (access (*candidate, X_OK) == 0)
            return *candidate;
    return NULL;
}

//  Run ARGS (ARGS[0] an absolute path) as the server user, output appended to
//  DIR/localpg.log. Returns the exit status, or -1 if it could not run; then
//  *DETAIL says why (caller owns it).
static int
s_run (zetl_localpg_t *self, const char *const *args, char **detail)
{
    const char *argv[24];
    size_t argc = 0;
    if (self->runuser) {
        argv[argc++] = self->runuser;
        argv[argc++] = "-u";
        argv[argc++] = S_SERVER_USER;
        argv[argc++] = "--";
    }
    for (; *args && argc < 23; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;

    //  Everything the child needs is prepared before fork: after it, only
    //  async-signal-safe calls until exec
    char *log_path = zsys_sprintf ("%s/localpg.log", self->dir);
    int log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
        *detail = zsys_sprintf ("cannot open %s: %s", log_path, strerror (errno));
        free (log_path);
        if (log_fd >= 0)
            close (log_fd);
        if (null_fd >= 0)
            close (null_fd);
        return -1;
    }
    free (log_path);
    pid_t pid = fork ();
    if (pid == 0) {
        if (chdir (self->dir) != 0) {
            //  Not fatal: the server programs get absolute paths
        }
        //  Undo what the caller may have set for itself (a blocked mask, an
        //  ignored SIGCHLD): exec keeps both, and initdb waits for children
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        signal (SIGCHLD, SIG_DFL);
        signal (SIGPIPE, SIG_DFL);
        dup2 (null_fd, STDIN_FILENO);
        dup2 (log_fd, STDOUT_FILENO);
        dup2 (log_fd, STDERR_FILENO);
        //  The server must not inherit our sockets or pipes: a pipe held
        //  open by the postmaster would keep a test runner waiting forever
        if (close_range (3, ~0U, 0) != 0)
            for (int fd = 3; fd < 4096; fd++)
                close (fd);
        execv (argv[0], (char *const *) argv);
        _exit (127);
    }
    int saved_errno = errno;
    close (log_fd);
    close (null_fd);
    if (pid < 0) {
        *detail = zsys_sprintf ("cannot fork: %s", strerror (saved_errno));
        return -1;
    }
    int status;
    while (waitpid (pid, &status, 0) < 0) {
        if (errno != EINTR) {
            *detail = zsys_sprintf ("cannot wait for %s: %s", args[0], strerror (errno));
            return -1;
        }
    }
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    *detail = zsys_sprintf ("%s was killed by signal %d", argv[0], WTERMSIG (status));
    return -1;
}

//  Run ARGS and, when they fail, set *ERROR to WHAT with the log's tail
static int
s_run_step (zetl_localpg_t *self, const char *what, const char *const *args, char **error)
{
    char *log_path = zsys_sprintf ("%s/localpg.log", self->dir);
    struct stat st;
    long from = stat (log_path, &st) == 0 ? (long) st.st_size : 0;  //  Quote this step only
    char *detail = NULL;
    int status = s_run (self, args, &detail);
    if (status == 0) {
        free (log_path);
        return 0;
    }
    char *tail = zetl_files_tail (log_path, from);
    if (status == 127)
        *error = zsys_sprintf ("%s: cannot run %s%s (exit 127); check that it is installed", what,
                           self->runuser ? "runuser, or " : "", args[0]);
    else if (status > 0)
        *error = zsys_sprintf ("%s failed (exit %d); %s says: %s", what, status, log_path, tail);
    else
        *error = zsys_sprintf ("%s failed: %s", what, detail);
    free (detail);
    free (tail);
    free (log_path);
    return -1;
}

//  Return NULL if the server user can reach DIR (search permission on each
//  directory above it), else the first directory that stops it (caller owns).
static char *
s_untraversable_parent (const char *dir, const struct passwd *pw)
{
    gid_t groups[64];
    int group_count = 64;
    if (getgrouplist (pw->pw_name, pw->pw_gid, groups, &group_count) < 0)
        group_count = 0;
    char *copy = strdup (dir);
    char *blocker = NULL;
    for (char *slash = copy; slash && !blocker; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        const char *parent = *copy ? copy : "/";
        struct stat st;
        if (stat (parent, &st) == 0) {
            bool in_group = st.st_gid == pw->pw_gid;
            for (int index = 0; index < group_count; index++)
                in_group = in_group || st.st_gid == groups[index];
            mode_t bit = st.st_uid == pw->pw_uid ? S_IXUSR : in_group ? S_IXGRP : S_IXOTH;
            if (!(st.st_mode & bit))
                blocker = zsys_sprintf ("%s (mode %04o)", parent, (unsigned) (st.st_mode & 07777));
        }
        *slash = '/';
    }
    free (copy);
    return blocker;
}

//  A libpq conninfo value: quoted when it holds a space, a quote or a backslash
static char *
s_conninfo_value (const char *value)
{
    if (*value && !strpbrk (value, " '\\\t\n"))
        return strdup (value);
    char *quoted = (char *) malloc (2 * strlen (value) + 3), *p = quoted;
    *p++ = '\'';
    for (; *value; value++) {
        if (*value == '\'' || *value == '\\')
            *p++ = '\\';
        *p++ = *value;
    }
    *p++ = '\'';
    *p = 0;
    return quoted;
}

//  Write DIR/data/zetl.conf and make sure postgresql.conf includes it
static int
s_write_settings (zetl_localpg_t *self, const zetl_localpg_options_t *options,
                  const struct passwd *server_pw, char **error)
{
    int rc = -1;
    char *conf_path = zsys_sprintf ("%s/zetl.conf", self->data);
    char *main_path = zsys_sprintf ("%s/postgresql.conf", self->data);
    char *quoted_dir = (char *) malloc (2 * strlen (self->dir) + 1), *q = quoted_dir;
    for (const char *c = self->dir; *c; c++) {
        if (*c == '\'')
            *q++ = '\'';
        *q++ = *c;
    }
    *q = 0;

    FILE *file = fopen (conf_path, "w");
    if (!file) {
        *error = zsys_sprintf ("cannot write %s: %s; check the permissions of %s", conf_path,
                           strerror (errno), self->data);
        goto cleanup;
    }
    fprintf (file,
             "# Written by zetl at each start of this private server: no TCP, a unix socket\n"
             "# in the directory above. Edits here are lost; use postgresql.auto.conf.\n"
             "listen_addresses = ''\n"
             "unix_socket_directories = '%s'\n"
             "port = %d\n"
             "fsync = on\n"
             "synchronous_commit = %s\n",
             quoted_dir, self->port, options->fast ? "off" : "on");
    if (fclose (file) != 0) {
        *error = zsys_sprintf ("cannot write %s: %s", conf_path, strerror (errno));
        goto cleanup;
    }
    if (server_pw && chown (conf_path, server_pw->pw_uid, server_pw->pw_gid) != 0) {
        *error =
            zsys_sprintf ("cannot give %s to user %s: %s", conf_path, S_SERVER_USER, strerror (errno));
        goto cleanup;
    }

    //  Add the include once: a cluster made by an earlier start already has it
    file = fopen (main_path, "r+");
    if (!file) {
        *error = zsys_sprintf ("cannot open %s: %s; is %s a PostgreSQL data directory?", main_path,
                           strerror (errno), self->data);
        goto cleanup;
    }
    char line[1024];
    bool included = false;
    while (!included && fgets (line, sizeof line, file))
        included = strncmp (line, "include_if_exists 'zetl.conf'", 29) == 0;
    if (!included) {
        fseek (file, 0, SEEK_END);
        fputs ("\n# zetl: settings of this private server\ninclude_if_exists 'zetl.conf'\n", file);
    }
    if (fclose (file) != 0) {
        *error = zsys_sprintf ("cannot write %s: %s", main_path, strerror (errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    free (quoted_dir);
    free (main_path);
    free (conf_path);
    return rc;
}

//  Connect to the maintenance database and create database zetl if missing
static int
s_create_database (zetl_localpg_t *self, char **error)
{
    char port[16];
    snprintf (port, sizeof port, "%d", self->port);
    const char *keys[] = {"host", "port", "dbname", "user", "connect_timeout", NULL};
    const char *values[] = {self->dir, port, "postgres", self->user, "30", NULL};
    PGconn *conn = PQconnectdbParams (keys, values, 0);
    int rc = -1;
    if (PQstatus (conn) != CONNECTION_OK) {
        *error =
            zsys_sprintf ("cannot connect to the new PostgreSQL in %s as %s: %s; see %s/postgres.log",
                      self->dir, self->user, PQerrorMessage (conn), self->dir);
        goto cleanup;
    }
    PGresult *result = PQexec (conn, "SELECT 1 FROM pg_database WHERE datname = 'zetl'");
    bool exists = PQresultStatus (result) == PGRES_TUPLES_OK && PQntuples (result) == 1;
    PQclear (result);
    if (!exists) {
        result = PQexec (conn, "CREATE DATABASE zetl");
        if (PQresultStatus (result) != PGRES_COMMAND_OK) {
            *error = zsys_sprintf ("cannot create database zetl in %s: %s (SQL state %s)", self->dir,
                               PQresultErrorMessage (result),
                               PQresultErrorField (result, PG_DIAG_SQLSTATE));
            PQclear (result);
            goto cleanup;
        }
        PQclear (result);
    }
    rc = 0;
cleanup:
    PQfinish (conn);
    return rc;
}

static void
s_free (zetl_localpg_t *self)
{
    free (self->dir);
    free (self->data);
    free (self->bindir);
    free (self->user);
    free (self->conninfo);
    free (self->runuser);
    free (self);
}

zetl_localpg_t *
zetl_localpg_start (const char *dir, char **error)
{
    return zetl_localpg_start_with (dir, NULL, error);
}

zetl_localpg_t *
zetl_localpg_start_with (const char *dir, const zetl_localpg_options_t *options, char **error)
{
    assert (dir);
    assert (error);
    *error = NULL;
    zetl_localpg_options_t defaults = {false, 0};
    if (!options)
        options = &defaults;
    if (options->port < 0 || options->port > 65535) {
        *error = zsys_sprintf ("PostgreSQL port %d is out of range; use 1..65535, or 0 for 5432",
                           options->port);
        return NULL;
    }
    zetl_localpg_t *self = (zetl_localpg_t *) calloc (1, sizeof (zetl_localpg_t));
    assert (self);
    self->port = options->port ? options->port : 5432;
    const struct passwd *server_pw = NULL;
    char *tail = NULL;

    if (zetl_files_mkdir_parents (dir) != 0) {
        *error = zsys_sprintf ("cannot create directory %s for PostgreSQL: %s; choose a writable "
                           "directory",
                           dir, strerror (errno));
        goto failed;
    }
    self->dir = realpath (dir, NULL);
    if (!self->dir) {
        *error = zsys_sprintf ("cannot resolve directory %s: %s", dir, strerror (errno));
        goto failed;
    }
    //  The socket path must fit in sockaddr_un
    if (strlen (self->dir) + strlen ("/.s.PGSQL.65535") >=
        sizeof (((struct sockaddr_un *) 0)->sun_path)) {
        *error = zsys_sprintf ("directory %s is too long for a unix socket (at most %zu bytes); "
                           "use a shorter path",
                           self->dir, sizeof (((struct sockaddr_un *) 0)->sun_path) - 16);
        goto failed;
    }
    self->data = zsys_sprintf ("%s/data", self->dir);
    self->bindir = zetl_localpg_bindir ();
    if (!self->bindir) {
        *error = zsys_sprintf ("no PostgreSQL server programs (initdb, pg_ctl, postgres) in "
                           "/usr/lib/postgresql/*/bin or on PATH; install them (apt-get install "
                           "postgresql) or set ZETL_POSTGRES to a running server");
        goto failed;
    }

    if (geteuid () == 0) {
        //  initdb and postgres refuse to run as root: run them as the system
        //  user postgres, which then owns DIR
        server_pw = getpwnam (S_SERVER_USER);
        const char *runuser = s_find_runuser ();
        if (!server_pw || !runuser) {
            *error = zsys_sprintf ("running as root, PostgreSQL in %s must run as user %s, but %s; "
                               "install postgresql (it creates the user) and util-linux, or run "
                               "zetl as an unprivileged user",
                               self->dir, S_SERVER_USER,
                               !server_pw ? "that user does not exist" : "runuser is missing");
            goto failed;
        }
        char *blocker = s_untraversable_parent (self->dir, server_pw);
        if (blocker) {
            *error = zsys_sprintf ("running as root, PostgreSQL runs as user %s, which cannot reach "
                               "%s: %s is not searchable by it; use a directory under /tmp, or "
                               "allow it (chmod o+x on that directory)",
                               S_SERVER_USER, self->dir, blocker);
            free (blocker);
            goto failed;
        }
        if (chown (self->dir, server_pw->pw_uid, server_pw->pw_gid) != 0 ||
            chmod (self->dir, 0700) != 0) {
            *error = zsys_sprintf ("cannot give %s to user %s: %s", self->dir, S_SERVER_USER,
                               strerror (errno));
            goto failed;
        }
        self->runuser = strdup (runuser);
        self->user = strdup (S_SERVER_USER);
    }
    else {
        struct passwd *pw = getpwuid (geteuid ());
        self->user = pw ? strdup (pw->pw_name) : zsys_sprintf ("%u", (unsigned) geteuid ());
    }

    char initdb[PATH_MAX], pg_ctl[PATH_MAX], log_arg[PATH_MAX];
    snprintf (initdb, sizeof initdb, "%s/initdb", self->bindir);
    snprintf (pg_ctl, sizeof pg_ctl, "%s/pg_ctl", self->bindir);
    snprintf (log_arg, sizeof log_arg, "%s/postgres.log", self->dir);
    struct stat st;
    if (stat (self->data, &st) != 0) {
        //  C collation: text sorts by bytes, the same on every machine
        const char *args[] = {initdb,
                              "-D",
                              self->data,
                              "-U",
                              self->user,
                              "-A",
                              "trust",
                              "-E",
                              "UTF8",
                              "--locale=C",
                              options->fast ? "--no-sync" : NULL,
                              NULL};
        if (s_run_step (self, "initdb", args, error) != 0)
            goto failed;
        zetl_log_info ("localpg", "postgres_initdb",
                       json_pack ("{s:s, s:s}", "data", self->data, "bindir", self->bindir));
    }
    if (s_write_settings (self, options, server_pw, error) != 0)
        goto failed;
    const char *start_args[] = {pg_ctl, "-D",        self->data, "-l",    log_arg, "-w",
                                "-t",   S_TIMEOUT_S, "-s",       "start", NULL};
    struct stat log_st;
    long log_from = stat (log_arg, &log_st) == 0 ? (long) log_st.st_size : 0;
    if (s_run_step (self, "pg_ctl start", start_args, error) != 0) {
        tail = zetl_files_tail (log_arg, log_from);
        char *longer =
            zsys_sprintf ("%s; server log %s: %s (if a server is still running on %s, "
                      "stop it: %s%s -D %s stop)",
                      *error, log_arg, tail, self->data,
                      self->runuser ? "runuser -u " S_SERVER_USER " -- " : "", pg_ctl, self->data);
        free (*error);
        *error = longer;
        goto failed;
    }
    if (s_create_database (self, error) != 0) {
        const char *stop_args[] = {pg_ctl, "-D", self->data, "-m", "fast",
                                   "-w",   "-s", "stop",     NULL};
        char *ignored = NULL;
        s_run_step (self, "pg_ctl stop", stop_args, &ignored);
        free (ignored);
        goto failed;
    }
    char *host = s_conninfo_value (self->dir), *user = s_conninfo_value (self->user);
    self->conninfo = zsys_sprintf ("host=%s port=%d dbname=zetl user=%s", host, self->port, user);
    free (host);
    free (user);
    zetl_log_info ("localpg", "postgres_started",
                   json_pack ("{s:s, s:i, s:s, s:s, s:b}", "dir", self->dir, "port", self->port,
                              "user", self->user, "bindir", self->bindir, "fast", options->fast));
    return self;

failed:
    free (tail);
    s_free (self);
    return NULL;
}

const char *
zetl_localpg_conninfo (zetl_localpg_t *self)
{
    assert (self);
    return self->conninfo;
}

const char *
zetl_localpg_dir (zetl_localpg_t *self)
{
    assert (self);
    return self->dir;
}

int
zetl_localpg_port (zetl_localpg_t *self)
{
    assert (self);
    return self->port;
}

const char *
zetl_localpg_user (zetl_localpg_t *self)
{
    assert (self);
    return self->user;
}

void
zetl_localpg_stop (zetl_localpg_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_localpg_t *self = *self_p;
        char pg_ctl[PATH_MAX];
        snprintf (pg_ctl, sizeof pg_ctl, "%s/pg_ctl", self->bindir);
        const char *args[] = {pg_ctl, "-D",        self->data, "-m",   "fast", "-w",
                              "-t",   S_TIMEOUT_S, "-s",       "stop", NULL};
        char *error = NULL;
        if (s_run_step (self, "pg_ctl stop", args, &error) == 0)
            zetl_log_info ("localpg", "postgres_stopped", json_pack ("{s:s}", "dir", self->dir));
        else
            zetl_log_error ("localpg", "postgres_stop_failed",
                            json_pack ("{s:s, s:s}", "dir", self->dir, "error", error));
        free (error);
        s_free (self);
        *self_p = NULL;
    }
}
