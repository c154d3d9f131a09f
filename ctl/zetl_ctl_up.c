/*  zetl_ctl_up - `zetlctl up`: a whole zetl cluster on this host

    Runs the coordinator, N workers and M sinks as supervised child
    processes: a child that dies is started again with backoff. With
    --workers MIN:MAX the number of workers follows the coordinator's
    autoscaling signal (desired_workers, read from its event socket) within
    those bounds: more are started under load, and the newest are drained
    (SIGTERM: a worker says DRAIN, finishes what it holds, then BYE) when
    the signal falls. With no
    PostgreSQL configured (postgres: and ZETL_POSTGRES both unset) it starts
    a throwaway one under RUN_DIR/pg (zetl_localpg) and stops it on exit.
    Children log to RUN_DIR/logs/<name>.log. With --once it waits for the
    coordinator to drain every source and commit every batch, relays the
    reconciliation it prints, shows a few target rows, and exits with the
    coordinator's code. SIGINT/SIGTERM stop everything, coordinator first.
*/
#include "zetl_backoff.h"
#include "zetl_config.h"
#include "zetl_ctl.h"
#include "zetl_curve.h"
#include "zetl_localpg.h"
#include "zetl_localredis.h"
#include "zetl_log.h"
#include "zetl_lut.h"
#include "zetl_pg.h"
#include "zetl_proto_event.h"
#include "zetl_redis.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define S_MAX_CHILDREN 256
#define S_MAX_LUTS 16  //  --lut options
#define S_RESTART_MIN_MS 500
#define S_RESTART_MAX_MS 30000
#define S_STOP_GRACE_MS 10000  //  for workers and sinks
#define S_DRAIN_GRACE_MS 40000 //  for the coordinator to drain

typedef struct {
    char *name;             //  "coordinator", "worker-1", "sink-1"
    char **argv;            //  NULL-terminated, owned
    pid_t pid;              //  0 when not running
    int64_t restart_at_ms;  //  when to start it again
    int64_t started_ms;     //  when it was last started
    zetl_backoff_t backoff; //  restart delays
    int exit_code;          //  of its last exit
    bool enabled;           //  wanted: started, and restarted if it dies
    bool worker;            //  a worker (the ones scaling adds and drains)
} s_child_t;

typedef struct {
    const char *config_path;
    int workers;      //  workers now wanted
    int min_workers;  //  --workers MIN:MAX (MIN = MAX = N for --workers N)
    int max_workers;
    zsock_t *signal;  //  SUB to the coordinator's "autoscale" events, when MIN < MAX
    int sinks;
    bool once;
    const char *run_dir;
    char *bin_dir;
    char *log_dir;
    s_child_t children[S_MAX_CHILDREN];
    int child_count;
    const char *luts[S_MAX_LUTS];  //  --lut TABLE=FILE:KEY, loaded before the cluster starts
    int lut_count;
} s_up_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: zetlctl up --config FILE [--workers N|MIN:MAX] [--sinks M] [--once]\n"
             "                  [--run-dir DIR] [--lut TABLE=FILE.csv:KEY]...\n"
             "Runs a whole zetl cluster on this host: the coordinator, N workers (default 2)\n"
             "and M sinks (default 1), restarted if they die. With MIN:MAX the workers follow\n"
             "the coordinator's autoscaling signal (desired_workers) within those bounds:\n"
             "started under load, drained when it passes. Without postgres: in FILE and\n"
             "without ZETL_POSTGRES it starts a throwaway PostgreSQL under DIR/pg (default\n"
             "./run). When a pipeline enriches and neither redis: nor ZETL_REDIS is set, it\n"
             "starts a throwaway Redis under DIR/redis. --lut loads a CSV as lookup table\n"
             "TABLE keyed by column KEY (as zetlctl lut load) before the cluster starts.\n"
             "Logs go to DIR/logs/. --once drains every source, prints the\n"
             "reconciliation and a few rows, and exits (0 unless zetl or a target failed).\n");
}

//  Directory of the running zetlctl, to find the other binaries
static char *
s_self_dir (void)
{
    char path[4096];
    ssize_t len = readlink ("/proc/self/exe", path, sizeof path - 1);
    if (len <= 0)
        return strdup (".");
    path[len] = 0;
    char *slash = strrchr (path, '/');
    if (slash)
        *slash = 0;
    return strdup (path);
}

//  The binary NAME next to zetlctl, or in the build tree's folder FOLDER
static char *
s_binary (s_up_t *self, const char *folder, const char *name)
{
    char *beside = zsys_sprintf ("%s/%s", self->bin_dir, name);
    if (access (beside, X_OK) == 0)
        return beside;
    free (beside);
    char *built = zsys_sprintf ("%s/../%s/%s", self->bin_dir, folder, name);
    if (access (built, X_OK) == 0)
        return built;
    free (built);
    return strdup (name);  //  From PATH
}

static void
s_add_child (s_up_t *self, const char *name, char **argv)
{
    assert (self->child_count < S_MAX_CHILDREN);
    s_child_t *child = &self->children[self->child_count++];
    child->name = strdup (name);
    child->argv = argv;
    child->enabled = true;
    zetl_backoff_init (&child->backoff, S_RESTART_MIN_MS, S_RESTART_MAX_MS);
}

static char **
s_argv (const char *first, ...)
{
    char **argv = (char **) zmalloc (16 * sizeof (char *));
    va_list args;
    va_start (args, first);
    int count = 0;
    for (const char *arg = first; arg && count < 15; arg = va_arg (args, const char *))
        argv[count++] = strdup (arg);
    va_end (args);
    return argv;
}

static void
s_spawn (s_up_t *self, s_child_t *child)
{
    char *log_path = zsys_sprintf ("%s/%s.log", self->log_dir, child->name);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, STDERR_FILENO);
            close (fd);
        }
        setpgid (0, 0);  //  Ctrl-C reaches zetlctl only; it stops children in order
        execvp (child->argv[0], child->argv);
        fprintf (stderr, "cannot run %s: %s\n", child->argv[0], strerror (errno));
        _exit (127);
    }
    free (log_path);
    child->pid = pid > 0 ? pid : 0;
    child->started_ms = zclock_mono ();
    zetl_log_info ("up", "child_started",
                   json_pack ("{s:s, s:i}", "child", child->name, "pid", (int) pid));
}

static s_child_t *
s_child_by_pid (s_up_t *self, pid_t pid)
{
    for (int index = 0; index < self->child_count; index++)
        if (self->children[index].pid == pid)
            return &self->children[index];
    return NULL;
}

//  Stop children in order: coordinator first (no new batches), then the rest
//  CHILD ended with STATUS: note it, and log what it used (benchmarks read this)
static void
s_reaped (s_child_t *child, int status, const struct rusage *usage)
{
    child->pid = 0;
    child->exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
    int64_t cpu_ms = (int64_t) usage->ru_utime.tv_sec * 1000 + usage->ru_utime.tv_usec / 1000
                     + (int64_t) usage->ru_stime.tv_sec * 1000 + usage->ru_stime.tv_usec / 1000;
    zetl_log_info ("up", "child_exited",
                   json_pack ("{s:s, s:i, s:I, s:I}", "child", child->name, "exit_code",
                              child->exit_code, "cpu_ms", (json_int_t) cpu_ms, "max_rss_kb",
                              (json_int_t) usage->ru_maxrss));
}

static void
s_stop_all (s_up_t *self)
{
    for (int phase = 0; phase < 2; phase++) {
        for (int index = 0; index < self->child_count; index++) {
            s_child_t *child = &self->children[index];
            if (child->pid && (index == 0) == (phase == 0))
                kill (child->pid, SIGTERM);
        }
        int64_t deadline = zclock_mono () + (phase == 0 ? S_DRAIN_GRACE_MS : S_STOP_GRACE_MS);
        for (int index = 0; index < self->child_count; index++) {
            s_child_t *child = &self->children[index];
            if (!child->pid || (index == 0) != (phase == 0))
                continue;
            int status = 0;
            struct rusage usage;
            memset (&usage, 0, sizeof usage);
            while (wait4 (child->pid, &status, WNOHANG, &usage) == 0) {
                if (zclock_mono () > deadline) {
                    zetl_log_warn ("up", "child_killed", json_pack ("{s:s}", "child", child->name));
                    kill (child->pid, SIGKILL);
                    wait4 (child->pid, &status, 0, &usage);
                    break;
                }
                zclock_sleep (20);
            }
            s_reaped (child, status, &usage);
        }
    }
}

static void
s_show_rows (const zetl_config_t *config, const char *conninfo)
{
    PGconn *conn = zetl_pg_connect (conninfo, NULL);
    if (!conn)
        return;
    for (size_t p = 0; p < config->pipeline_count; p++) {
        const zetl_pipeline_t *pipeline = &config->pipelines[p];
        for (size_t t = 0; t < pipeline->target_count; t++) {
            const zetl_target_t *target = &pipeline->targets[t];
            if (target->type != ZETL_TARGET_POSTGRES)
                continue;
            char *table = zetl_pg_ident (conn, target->table);
            char *key = zetl_pg_ident (conn, target->primary_key[0]);
            char *sql = zsys_sprintf ("SELECT count(*), (SELECT json_agg(r) FROM (SELECT * FROM "
                                      "%s ORDER BY %s LIMIT 3) r) FROM %s",
                                      table, key, table);
            PGresult *res = PQexec (conn, sql);
            if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1)
                printf ("table %s: %s rows; first rows: %s\n", target->table,
                        PQgetvalue (res, 0, 0), PQgetvalue (res, 0, 1));
            PQclear (res);
            free (sql);
            free (key);
            free (table);
        }
    }
    PQfinish (conn);
}

//  --workers N or MIN:MAX, each 1 to 100. Returns 0, or -1 after a message
static int
s_parse_workers (s_up_t *self, const char *text)
{
    int min = 0, max = 0, used = 0;
    bool range = sscanf (text, "%d:%d%n", &min, &max, &used) == 2 && !text[used];
    if (!range && !(sscanf (text, "%d%n", &min, &used) == 1 && !text[used]))
        min = 0;  //  Neither form: refused below
    if (!range)
        max = min;
    if (min < 1 || max < min || max > 100) {
        fprintf (stderr,
                 "zetlctl up: --workers %s: expected N or MIN:MAX, 1 <= MIN <= MAX <= 100\n",
                 text);
        return -1;
    }
    self->workers = self->min_workers = min;
    self->max_workers = max;
    return 0;
}

static int
s_parse (s_up_t *self, int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"workers", required_argument, NULL, 'w'},
        {"sinks", required_argument, NULL, 's'},  {"once", no_argument, NULL, 'o'},
        {"run-dir", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
        {"lut", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0}};
    self->workers = self->min_workers = self->max_workers = 2;
    self->sinks = 1;
    self->run_dir = "run";
    optind = 1;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'c': self->config_path = optarg; break;
        case 'w':
            if (s_parse_workers (self, optarg) != 0)
                return 2;
            break;
        case 's': self->sinks = atoi (optarg); break;
        case 'o': self->once = true; break;
        case 'r': self->run_dir = optarg; break;
        case 'l':
            if (self->lut_count == S_MAX_LUTS) {
                fprintf (stderr, "zetlctl up: at most %d --lut options\n", S_MAX_LUTS);
                return 2;
            }
            self->luts[self->lut_count++] = optarg;
            break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (!self->config_path || self->sinks < 1 || self->sinks > 100) {
        s_usage (stderr);
        return 2;
    }
    return -1;
}

static void
s_plan_children (s_up_t *self, const zetl_config_t *config)
{
    char *coordinator = s_binary (self, "coordinator", "zetl-coordinator");
    char *worker = s_binary (self, "worker", "zetl-worker");
    char *sink = s_binary (self, "sink", "zetl-sink");
    char *workers_ep = zetl_endpoint_local (config->cluster.workers);
    char *sinks_ep = zetl_endpoint_local (config->cluster.sinks);
    s_add_child (self, "coordinator",
                 s_argv (coordinator, "--config", self->config_path, self->once ? "--once" : NULL,
                         NULL));
    //  A slot for each worker there may be; the first MIN run from the start
    for (int index = 1; index <= self->max_workers; index++) {
        char name[32];
        snprintf (name, sizeof name, "worker-%d", index);
        s_add_child (self, name, s_argv (worker, "--coordinator", workers_ep, "--name", name, NULL));
        self->children[self->child_count - 1].worker = true;
        self->children[self->child_count - 1].enabled = index <= self->workers;
    }
    for (int index = 1; index <= self->sinks; index++) {
        char name[32];
        snprintf (name, sizeof name, "sink-%d", index);
        s_add_child (self, name, s_argv (sink, "--coordinator", sinks_ep, "--name", name, NULL));
    }
    free (coordinator);
    free (worker);
    free (sink);
    free (workers_ep);
    free (sinks_ep);
}

//  Load --lut SPEC, TABLE=FILE:KEY, into Redis at URL. Returns 0, or -1 after a message
static int
s_load_lut (const char *spec, const char *url)
{
    const char *equals = strchr (spec, '=');
    const char *colon = strrchr (spec, ':');
    if (!equals || !colon || colon < equals || equals == spec || colon == equals + 1
        || !colon[1]) {
        fprintf (stderr, "zetlctl up: --lut %s: expected TABLE=FILE.csv:KEY\n", spec);
        return -1;
    }
    char *table = strndup (spec, (size_t) (equals - spec));
    char *file = strndup (equals + 1, (size_t) (colon - equals - 1));
    char *error = NULL;
    redisContext *redis = zetl_redis_connect (url, 5000, &error);
    zetl_lut_loaded_t loaded;
    int rc = redis ? zetl_lut_load (redis, table, file, colon + 1, ',', &loaded, &error) : -1;
    if (rc == 0)
        printf ("{\"table\":\"%s\",\"version\":%" PRIu64 ",\"rows\":%" PRIu64 "}\n", table,
                loaded.version, (uint64_t) loaded.rows);
    else
        fprintf (stderr, "zetlctl up: --lut %s: %s\n", spec, error ? error : "failed");
    free (error);
    if (redis)
        redisFree (redis);
    free (table);
    free (file);
    return rc;
}

//  Whether a pipeline of CONFIG enriches from Redis
static bool
s_enriches (const zetl_config_t *config)
{
    for (size_t index = 0; index < config->pipeline_count; index++)
        if (config->pipelines[index].enrich_count)
            return true;
    return false;
}

//  Start a throwaway Redis under RUN_DIR/redis when the configuration needs
//  one and names none; export ZETL_REDIS; load the --lut tables. Returns 0,
//  or -1 after a message
static int
s_prepare_redis (s_up_t *self, const zetl_config_t *config, zetl_localredis_t **local)
{
    const char *url = config->redis;
    if ((!url || !*url) && (s_enriches (config) || self->lut_count)) {
        char *dir = zsys_sprintf ("%s/redis", self->run_dir);
        char *error = NULL;
        *local = zetl_localredis_start (dir, &error);
        free (dir);
        if (!*local) {
            fprintf (stderr, "zetlctl up: %s\n", error);
            free (error);
            return -1;
        }
        url = zetl_localredis_url (*local);
    }
    if (url && *url)
        setenv ("ZETL_REDIS", url, 1);
    for (int index = 0; index < self->lut_count; index++)
        if (s_load_lut (self->luts[index], url) != 0)
            return -1;
    return 0;
}

//  Workers wanted or running
static int
s_workers_enabled (s_up_t *self)
{
    int count = 0;
    for (int index = 0; index < self->child_count; index++)
        count += self->children[index].worker && self->children[index].enabled;
    return count;
}

//  Start or drain workers until WANTED are enabled: the lowest free slots
//  start; the highest enabled ones are drained (SIGTERM) and not restarted
static void
s_scale_to (s_up_t *self, int wanted, const char *reason)
{
    int before = s_workers_enabled (self);
    for (int index = 0; index < self->child_count && s_workers_enabled (self) < wanted; index++) {
        s_child_t *child = &self->children[index];
        if (child->worker && !child->enabled && !child->pid) {
            child->enabled = true;
            zetl_backoff_reset (&child->backoff);
            s_spawn (self, child);
        }
    }
    for (int index = self->child_count - 1; index >= 0 && s_workers_enabled (self) > wanted;
         index--) {
        s_child_t *child = &self->children[index];
        if (child->worker && child->enabled) {
            child->enabled = false;
            child->restart_at_ms = 0;
            if (child->pid)
                kill (child->pid, SIGTERM);
            zetl_log_info ("up", "worker_draining", json_pack ("{s:s}", "child", child->name));
        }
    }
    int after = s_workers_enabled (self);
    if (after != before)
        zetl_log_info ("up", "scaled",
                       json_pack ("{s:i, s:i, s:s}", "workers_before", before, "workers", after,
                                  "reason", reason));
}

//  Wait up to 50 ms for an autoscale event, and follow it within --workers
static void
s_follow_signal (s_up_t *self)
{
    if (!self->signal) {
        zclock_sleep (50);
        return;
    }
    zpoller_t *poller = zpoller_new (self->signal, NULL);
    zsock_t *which = (zsock_t *) zpoller_wait (poller, 50);
    zpoller_destroy (&poller);
    if (!which)
        return;
    zmsg_t *msg = zmsg_recv (self->signal);
    const char *reason = NULL;
    json_t *event = msg ? zetl_event_decode (&msg, &reason) : NULL;
    zmsg_destroy (&msg);
    if (!event)
        return;
    json_int_t desired = json_integer_value (json_object_get (event, "desired_workers"));
    int wanted = desired < self->min_workers   ? self->min_workers
                 : desired > self->max_workers ? self->max_workers
                                               : (int) desired;
    const char *why = json_string_value (json_object_get (event, "reason"));
    s_scale_to (self, wanted, why ? why : "signal");
    json_decref (event);
}

//  Supervise until the coordinator finishes (--once) or a signal. Returns the exit code.
static int
s_supervise (s_up_t *self)
{
    while (!zsys_interrupted) {
        int status;
        pid_t pid;
        struct rusage usage;
        while ((pid = wait4 (-1, &status, WNOHANG, &usage)) > 0) {
            s_child_t *child = s_child_by_pid (self, pid);
            if (!child)
                continue;
            s_reaped (child, status, &usage);
            if (child == &self->children[0] && self->once && WIFEXITED (status))
                return child->exit_code;
            if (!child->enabled) {
                zetl_log_info (
                    "up", "worker_retired",
                    json_pack ("{s:s, s:i}", "child", child->name, "exit_code", child->exit_code));
                continue;
            }
            if (zclock_mono () - child->started_ms > S_RESTART_MAX_MS * 2)
                zetl_backoff_reset (&child->backoff);  //  It had been running well
            int64_t delay_ms = zetl_backoff_next (&child->backoff);
            zetl_log_warn ("up", "child_died",
                           json_pack ("{s:s, s:i, s:I}", "child", child->name, "exit_code",
                                      child->exit_code, "restart_in_ms", (json_int_t) delay_ms));
            child->restart_at_ms = zclock_mono () + delay_ms;
        }
        int64_t now = zclock_mono ();
        for (int index = 0; index < self->child_count; index++) {
            s_child_t *child = &self->children[index];
            if (!child->pid && child->enabled && child->restart_at_ms &&
                now >= child->restart_at_ms) {
                child->restart_at_ms = 0;
                s_spawn (self, child);
            }
        }
        s_follow_signal (self);
    }
    return 130;
}

int
zetl_ctl_up (int argc, char **argv)
{
    s_up_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    int rc = s_parse (self, argc, argv);
    if (rc >= 0)
        return rc;
    char *error = NULL;
    zetl_config_t *config = zetl_config_load (self->config_path, &error);
    if (!config) {
        fprintf (stderr, "%s\n", error);
        free (error);
        return 2;
    }
    char *events = NULL;
    if (self->min_workers < self->max_workers &&
        !(events = zetl_ctl_events_endpoint (config, "zetlctl up --workers MIN:MAX"))) {
        zetl_config_destroy (&config);
        return 2;
    }
    zsys_init ();
    mkdir (self->run_dir, 0755);
    self->log_dir = zsys_sprintf ("%s/logs", self->run_dir);
    mkdir (self->log_dir, 0755);
    self->bin_dir = s_self_dir ();
    zetl_localpg_t *localpg = NULL;
    const char *conninfo = config->postgres;
    if (!conninfo || !*conninfo) {
        char *pg_dir = zsys_sprintf ("%s/pg", self->run_dir);
        localpg = zetl_localpg_start (pg_dir, &error);
        free (pg_dir);
        if (!localpg) {
            fprintf (stderr, "zetlctl up: %s\n", error);
            free (error);
            zetl_config_destroy (&config);
            free (events);
            free (self->log_dir);
            free (self->bin_dir);
            return 1;
        }
        conninfo = zetl_localpg_conninfo (localpg);
    }
    setenv ("ZETL_POSTGRES", conninfo, 1);
    zetl_localredis_t *localredis = NULL;
    PGconn *probe = zetl_pg_connect (conninfo, &error);
    if (!probe) {
        fprintf (stderr, "zetlctl up: %s\n", error);
        free (error);
        rc = 1;
    }
    else if (s_prepare_redis (self, config, &localredis) != 0) {
        PQfinish (probe);
        rc = 1;
    }
    else {
        PQfinish (probe);
        s_plan_children (self, config);
        for (int index = 0; index < self->child_count; index++)
            if (self->children[index].enabled)
                s_spawn (self, &self->children[index]);
        if (events)
            self->signal = zetl_curve_new_sub (events, "autoscale");
        rc = s_supervise (self);
        zsock_destroy (&self->signal);
        s_stop_all (self);
        if (self->once && rc == 0)
            s_show_rows (config, conninfo);
    }
    zetl_localredis_stop (&localredis);
    zetl_localpg_stop (&localpg);
    for (int index = 0; index < self->child_count; index++) {
        for (char **arg = self->children[index].argv; *arg; arg++)
            free (*arg);
        free (self->children[index].argv);
        free (self->children[index].name);
    }
    free (events);
    free (self->log_dir);
    free (self->bin_dir);
    zetl_config_destroy (&config);
    return rc;
}
