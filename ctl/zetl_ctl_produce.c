/*  zetl_ctl_produce - `zetlctl produce`: send JSON lines to a pipeline as a producer

    Reads JSONL files (or - for stdin) line by line and sends each line as one
    record through zetl_producer, then flushes and prints one JSON line on
    stdout: {"records":N,"batches":B,"resent":R,"rejected":K}. It exits 0
    only when the coordinator has ACKed every record sent. A line that is not
    a JSON object is reported on stderr with its file:line, counted as
    rejected and skipped; blank lines are skipped silently. With stderr on a
    terminal a progress line shows records sent and ACKed and the rate.

    Input is read with read(2) rather than stdio, so that while a pipe on
    stdin is quiet the producer still gets its turns (the linger of a
    partial batch, resends) between lines.
*/
#include "zetl_config.h"
#include "zetl_ctl.h"
#include "zetl_jsonl.h"
#include "zetl_producer.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define S_DEFAULT_ENDPOINT "tcp://127.0.0.1:5570"
#define S_CONNECT_TIMEOUT_S 10  //  wait this long for WELCOME unless --timeout says
#define S_PROGRESS_MS 250       //  progress line refresh, and the longest wait between checks
#define S_REPORT_MAX 100        //  rejected lines reported one by one; then only counted
#define S_READ_CHUNK 65536      //  bytes read at a time

typedef struct {
    const char *endpoint;  //  --coordinator, or from --config, ZETL_COORDINATOR_PRODUCERS
    const char *config;    //  --config, or NULL
    const char *pipeline;  //  --pipeline, or NULL for the only one
    const char *name;      //  --name, or NULL for one derived from the host and the files
    int timeout_s;         //  --timeout: 0 for the defaults
} s_options_t;

typedef struct {
    zetl_producer_t *producer;
    int timeout_s;             //  --timeout, 0 if not given
    bool progress;             //  stderr is a terminal: show a progress line
    bool failed;               //  something went wrong: exit 1
    bool stopped;              //  interrupted or gave up: read no more
    uint64_t rejected;         //  lines that are not JSON objects
    int64_t started_ms;        //  for the rate
    int64_t next_progress_ms;  //  when to redraw the progress line
    uint64_t last_acked;       //  records ACKed when last seen moving
    int64_t last_ack_ms;       //  when that was
} s_produce_t;

//  One input read in chunks, cut into lines
typedef struct {
    int fd;
    char *buffer;
    size_t capacity, start, end;  //  unread bytes are buffer[start..end)
    bool eof;                     //  read(2) said the end
    bool skipping;                //  inside a line longer than the limit: drop to its end
} s_lines_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: zetlctl produce [--coordinator EP] [--config FILE] [--pipeline ID]\n"
             "                       [--name NAME] [--timeout SECONDS] FILE...\n"
             "Sends every line of the JSONL FILEs (- for stdin) to a pipeline as records of a\n"
             "producer, waits until the coordinator has ACKed them all, and prints\n"
             "{\"records\":N,\"batches\":B,\"resent\":R,\"rejected\":K} on stdout.\n\n"
             "  --coordinator EP  the coordinator's producer endpoint (cluster.producers; default\n"
             "                    from --config, else ZETL_COORDINATOR_PRODUCERS, else\n"
             "                    " S_DEFAULT_ENDPOINT ")\n"
             "  --config FILE     a configuration whose cluster.producers to connect to\n"
             "  --pipeline ID     the pipeline to feed (default: the configuration's only one)\n"
             "  --name NAME       the producer's stable name (default: derived from the host\n"
             "                    name and the files, so a rerun uses the same one)\n"
             "  --timeout SECONDS wait this long for the coordinator's WELCOME (default %d) and,\n"
             "                    if given, give up when no ACK comes for this long; by default\n"
             "                    it waits for ACKs as long as it takes (Ctrl-C stops it)\n"
             "Lines that are not JSON objects are reported on stderr and skipped. Exit 0 when\n"
             "every record sent is ACKed, 1 otherwise, 2 on bad usage.\n",
             S_CONNECT_TIMEOUT_S);
}

//  A name that stays the same when the same files are sent again from this
//  host: produce-<host>-<xxh3 of the files' absolute paths>
static void
s_default_name (int count, char **files, char *name, size_t size)
{
    char host[256] = "";
    if (gethostname (host, sizeof host - 1) != 0 || !*host)
        strcpy (host, "localhost");
    uint64_t hash = 0;
    for (int index = 0; index < count; index++) {
        char *real = streq (files[index], "-") ? NULL : realpath (files[index], NULL);
        const char *id = real ? real : files[index];
        hash = XXH3_64bits_withSeed (id, strlen (id) + 1, hash);
        free (real);
    }
    snprintf (name, size, "produce-%s-%016llx", host, (unsigned long long) hash);
}

//  ---------------------------------------------------------------------
//  Progress and the ACK clock

static void
s_progress (s_produce_t *self, bool force)
{
    int64_t now = zclock_mono ();
    zetl_producer_stats_t stats;
    zetl_producer_stats (self->producer, &stats);
    if (stats.records_acked != self->last_acked) {
        self->last_acked = stats.records_acked;
        self->last_ack_ms = now;
    }
    if (!self->progress || (!force && now < self->next_progress_ms))
        return;
    self->next_progress_ms = now + S_PROGRESS_MS;
    double seconds = (double) (now - self->started_ms) / 1000.0;
    fprintf (stderr, "\r%llu records sent, %llu ACKed, %.0f records/s\033[K",
             (unsigned long long) stats.records, (unsigned long long) stats.records_acked,
             seconds > 0 ? (double) stats.records / seconds : 0.0);
    fflush (stderr);
}

static void
s_progress_clear (s_produce_t *self)
{
    if (self->progress)
        fprintf (stderr, "\r\033[K");
}

//  True (and the run stopped) when --timeout was given and no ACK came for that long
static bool
s_gave_up (s_produce_t *self)
{
    s_progress (self, false);
    if (self->timeout_s <= 0 || zclock_mono () - self->last_ack_ms < self->timeout_s * 1000LL)
        return false;
    s_progress_clear (self);
    fprintf (stderr,
             "zetlctl produce: no ACK from the coordinator for %d s; giving up (the "
             "records not ACKed may not be loaded: send them again)\n",
             self->timeout_s);
    self->failed = self->stopped = true;
    return true;
}

static void
s_interrupted (s_produce_t *self)
{
    s_progress_clear (self);
    fprintf (stderr, "zetlctl produce: interrupted; the records not ACKed may not be loaded\n");
    self->failed = self->stopped = true;
}

//  ---------------------------------------------------------------------
//  Lines

static bool
s_blank (const char *line, size_t len)
{
    for (size_t index = 0; index < len; index++)
        if (line[index] != ' ' && line[index] != '\t' && line[index] != '\r')
            return false;
    return true;
}

static void
s_reject (s_produce_t *self, const char *file, uint64_t line_no, const char *reason)
{
    if (++self->rejected > S_REPORT_MAX)
        return;
    s_progress_clear (self);
    fprintf (stderr, "%s:%llu: %s; line skipped\n", file, (unsigned long long) line_no, reason);
    if (self->rejected == S_REPORT_MAX)
        fprintf (stderr, "zetlctl produce: further rejected lines are only counted\n");
}

static void
s_send_line (s_produce_t *self, const char *file, uint64_t line_no, const char *line, size_t len)
{
    if (s_blank (line, len))
        return;  //  Blank lines hold no record
    while (!self->stopped) {
        const char *error = NULL;
        if (zetl_producer_send_json (self->producer, line, len, &error) == 0)
            return;
        if (errno == EINVAL) {
            s_reject (self, file, line_no, error);
            return;
        }
        if (errno != EAGAIN)
            s_interrupted (self);
        else
            s_gave_up (self);  //  The window is full: wait on, unless --timeout says
    }
}

//  The next whole line in *LINE/*LEN (borrowed until the next call), without
//  its newline. Returns 1, 0 if more must be read first, -1 at the end, 2 for
//  a line over the size limit (dropped)
static int
s_lines_next (s_lines_t *self, char **line, size_t *len)
{
    char *start = self->buffer + self->start;
    size_t left = self->end - self->start;
    char *newline = left > 0 ? (char *) memchr (start, '\n', left) : NULL;
    if (self->skipping) {
        self->start = newline ? (size_t) (newline - self->buffer) + 1 : self->end;
        if (!newline && !self->eof)
            return 0;
        self->skipping = false;
        return 2;
    }
    if (newline) {
        *line = start;
        *len = (size_t) (newline - start);
        self->start += *len + 1;
        return 1;
    }
    if (left > ZETL_JSONL_MAX_LINE) {
        self->skipping = true;  //  No converter takes it: drop it to its end
        self->start = self->end;
        return 0;
    }
    if (!self->eof)
        return 0;
    if (left == 0)
        return -1;
    *line = start;  //  The last line, without a newline
    *len = left;
    self->start = self->end;
    return 1;
}

//  Read more input. Returns 0, or -1 on a read error
static int
s_lines_fill (s_lines_t *self)
{
    if (self->start > 0) {
        memmove (self->buffer, self->buffer + self->start, self->end - self->start);
        self->end -= self->start;
        self->start = 0;
    }
    if (self->capacity - self->end < S_READ_CHUNK) {
        self->capacity = self->capacity * 2 > self->end + S_READ_CHUNK ? self->capacity * 2
                                                                       : self->end + S_READ_CHUNK;
        self->buffer = (char *) realloc (self->buffer, self->capacity);
        assert (self->buffer);
    }
    ssize_t got = read (self->fd, self->buffer + self->end, self->capacity - self->end);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (got == 0)
        self->eof = true;
    self->end += (size_t) got;
    return 0;
}

//  Wait until FD is readable, giving the producer its turns meanwhile.
//  Returns false when the run stops
static bool
s_wait_input (s_produce_t *self, int fd)
{
    while (!self->stopped) {
        int64_t due = zetl_producer_poll (self->producer, 0);
        int wait = due < 0 || due > S_PROGRESS_MS ? S_PROGRESS_MS : (int) due;
        struct pollfd item = {fd, POLLIN, 0};
        int ready = poll (&item, 1, wait);
        if (zsys_interrupted)
            s_interrupted (self);
        else if (ready != 0)
            return true;  //  Readable, at the end, or an error read(2) will tell
        else
            s_progress (self, false);
    }
    return false;
}

static void
s_send_file (s_produce_t *self, const char *path)
{
    bool is_stdin = streq (path, "-");
    const char *shown = is_stdin ? "stdin" : path;
    s_lines_t lines = {0};
    lines.fd = is_stdin ? STDIN_FILENO : open (path, O_RDONLY | O_CLOEXEC);
    if (lines.fd < 0) {
        s_progress_clear (self);
        fprintf (stderr, "zetlctl produce: cannot open %s: %s\n", path, strerror (errno));
        self->failed = true;
        return;
    }
    uint64_t line_no = 0;
    while (!self->stopped) {
        char *line;
        size_t len;
        int rc = s_lines_next (&lines, &line, &len);
        if (rc == -1)
            break;
        if (rc == 1 || rc == 2) {
            line_no++;
            if (rc == 1)
                s_send_line (self, shown, line_no, line, len);
            else
                s_reject (self, shown, line_no, "line longer than 16 MiB");
            s_progress (self, false);
        }
        else if (s_wait_input (self, lines.fd) && s_lines_fill (&lines) != 0) {
            s_progress_clear (self);
            fprintf (stderr, "zetlctl produce: cannot read %s: %s\n", path, strerror (errno));
            self->failed = true;
            break;
        }
    }
    free (lines.buffer);
    if (!is_stdin)
        close (lines.fd);
}

//  Wait until everything sent is ACKed
static void
s_flush (s_produce_t *self)
{
    while (!self->stopped) {
        if (zetl_producer_flush (self->producer, S_PROGRESS_MS) == 0)
            return;
        if (errno == EINTR)
            s_interrupted (self);
        else
            s_gave_up (self);
    }
}

//  ---------------------------------------------------------------------
//  The command

//  Parse the options into *OPTIONS. Returns -1 to go on, or an exit code
static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option long_options[] = {{"coordinator", required_argument, NULL, 'c'},
                                                 {"config", required_argument, NULL, 'f'},
                                                 {"pipeline", required_argument, NULL, 'p'},
                                                 {"name", required_argument, NULL, 'n'},
                                                 {"timeout", required_argument, NULL, 't'},
                                                 {"help", no_argument, NULL, 'h'},
                                                 {NULL, 0, NULL, 0}};
    int option;
    optind = 1;
    while ((option = getopt_long (argc, argv, "", long_options, NULL)) != -1) {
        if (option == 'c')
            options->endpoint = optarg;
        else if (option == 'f')
            options->config = optarg;
        else if (option == 'p')
            options->pipeline = optarg;
        else if (option == 'n')
            options->name = optarg;
        else if (option == 't') {
            char *end = NULL;
            long value = strtol (optarg, &end, 10);
            if (!*optarg || *end || value < 1 || value > 86400) {
                fprintf (stderr, "zetlctl produce: --timeout %s: give whole seconds, 1..86400\n",
                         optarg);
                return 2;
            }
            options->timeout_s = (int) value;
        }
        else {
            s_usage (option == 'h' ? stdout : stderr);
            return option == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc) {
        fprintf (stderr, "zetlctl produce: name at least one FILE (- for stdin)\n\n");
        s_usage (stderr);
        return 2;
    }
    return -1;
}

//  The endpoint to connect to: --coordinator, --config's cluster.producers,
//  ZETL_COORDINATOR_PRODUCERS or the default. Caller owns the result; NULL
//  (reported) if --config does not load
static char *
s_endpoint (const s_options_t *options)
{
    if (options->endpoint)
        return strdup (options->endpoint);
    if (options->config) {
        char *error = NULL;
        zetl_config_t *config = zetl_config_load (options->config, &error);
        if (!config) {
            fprintf (stderr, "%s\n", error);
            free (error);
            return NULL;
        }
        char *endpoint = zetl_endpoint_local (config->cluster.producers);
        zetl_config_destroy (&config);
        return endpoint;
    }
    const char *env = getenv ("ZETL_COORDINATOR_PRODUCERS");
    return strdup (env && *env ? env : S_DEFAULT_ENDPOINT);
}

int
zetl_ctl_produce (int argc, char **argv)
{
    s_options_t options = {NULL, NULL, NULL, NULL, 0};
    int rc = s_parse (argc, argv, &options);
    if (rc >= 0)
        return rc;
    char **files = argv + optind;
    int file_count = argc - optind;
    char *endpoint = s_endpoint (&options);
    if (!endpoint)
        return 2;
    char default_name[1100];
    if (!options.name) {
        s_default_name (file_count, files, default_name, sizeof default_name);
        options.name = default_name;
    }
    zetl_producer_options_t producer_options;
    zetl_producer_options_init (&producer_options);
    producer_options.connect_timeout_ms =
        (options.timeout_s > 0 ? options.timeout_s : S_CONNECT_TIMEOUT_S) * 1000LL;
    //  A send that waits for the window comes back now and then, so that
    //  the progress line and --timeout go on meanwhile
    producer_options.send_timeout_ms = S_PROGRESS_MS;

    char *error = NULL;
    s_produce_t self = {NULL};
    self.producer =
        zetl_producer_new (endpoint, options.name, options.pipeline, &producer_options, &error);
    if (!self.producer) {
        fprintf (stderr, "zetlctl produce: %s\n", error);
        free (error);
        free (endpoint);
        return 1;
    }
    self.timeout_s = options.timeout_s;
    self.progress = isatty (STDERR_FILENO) == 1;
    self.started_ms = self.last_ack_ms = zclock_mono ();
    for (int index = 0; index < file_count && !self.stopped; index++)
        s_send_file (&self, files[index]);
    s_flush (&self);
    s_progress (&self, true);
    s_progress_clear (&self);

    zetl_producer_stats_t stats;
    zetl_producer_stats (self.producer, &stats);
    printf ("{\"records\":%llu,\"batches\":%llu,\"resent\":%llu,\"rejected\":%llu}\n",
            (unsigned long long) stats.records, (unsigned long long) stats.batches,
            (unsigned long long) stats.resent, (unsigned long long) self.rejected);
    fflush (stdout);
    zetl_producer_destroy (&self.producer);
    free (endpoint);
    return self.failed ? 1 : 0;
}
