/*  zetl_log - JSON-lines logging to stderr  */
#include "zetl_log.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *s_proc = "zetl";
static zetl_log_level_t s_level = ZETL_LOG_INFO;
static const char *s_level_names[] = {"debug", "info", "warn", "error"};

void
zetl_log_init (const char *proc)
{
    s_proc = proc;
    const char *env = getenv ("ZETL_LOG_LEVEL");
    if (env) {
        for (int level = ZETL_LOG_DEBUG; level <= ZETL_LOG_ERROR; level++)
            if (strcmp (env, s_level_names[level]) == 0)
                s_level = (zetl_log_level_t) level;
    }
}

void
zetl_log_set_level (zetl_log_level_t level)
{
    s_level = level;
}

static void
s_timestamp (char *buf, size_t size)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    size_t used = strftime (buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (buf + used, size - used, ".%03ldZ", now.tv_nsec / 1000000);
}

bool
zetl_log_enabled (zetl_log_level_t level)
{
    return level >= s_level;
}

void
zetl_log (zetl_log_level_t level, const char *module, const char *event, json_t *fields)
{
    if (level < s_level) {
        json_decref (fields);
        return;
    }
    char ts[40];
    s_timestamp (ts, sizeof ts);
    //  Fixed keys first, in a fixed order, so lines read well and grep well
    json_t *line = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "ts", ts, "level",
                              s_level_names[level], "proc", s_proc, "module", module, "event", event);
    if (fields && json_is_object (fields))
        json_object_update_missing (line, fields);
    json_decref (fields);
    char *text = json_dumps (line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref (line);
    if (text) {
        //  One writev per line, so lines from several threads never interleave
        struct iovec parts[2] = {{text, strlen (text)}, {(void *) "\n", 1}};
        ssize_t rc = writev (STDERR_FILENO, parts, 2);
        (void) rc;
        free (text);
    }
}

bool
zetl_log_every (zetl_log_limit_t *limit, int64_t interval_ms)
{
    limit->seen++;
    int64_t now = zclock_mono ();
    if (!limit->logged || now - limit->last_ms >= interval_ms) {
        limit->logged = true;
        limit->last_ms = now;
        return true;
    }
    return false;
}
