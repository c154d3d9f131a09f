/*  zetl_lut_load - a CSV file loaded into Redis as a new version of a lookup table

    Part of zetl_lut (zetl_lut.h has the Redis layout and zetl_lut_load). A
    load is one pass over the file: zetl_csv turns each row into its msgpack
    map, and rows go out in HSET commands of S_CHUNK_ROWS fields, pipelined S_WINDOW deep, so a million
    rows take a few hundred round trips and the memory holds one window,
    not the file. Redis is the key set: each HSET answers how many fields
    it added, and a chunk that added fewer than its rows holds a key seen
    before. Only then is the file read a second time, with a key set of its
    own (hashes and key bytes), to name the line of the repeat and of its
    first occurrence.
    Line numbers for messages come from the lines we feed: a row ends at the
    end of the line just fed, and its raw text tells how many lines it spans.
*/
#include "zetl_lut.h"
#include "zetl_csv.h"
#include "zetl_log.h"
#include "zetl_redis.h"
#include "zetl_time.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define S_CHUNK_ROWS 1000         //  fields in one HSET
#define S_WINDOW 8                //  commands written before we wait for the oldest reply
#define S_LOAD_TTL_MS 600000      //  TTL on a version being written: a dead load's hash goes
#define S_RENEW_MS 10000          //  renew that TTL this often while writing
#define S_SHOWN_MAX 80            //  bytes of a key quoted in a message
#define S_PENDING (S_WINDOW + 4)  //  replies we may wait for: the window, an HSET, a PEXPIRE

static void *
s_grow (void *ptr, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return ptr;
    size_t new_cap = *cap ? *cap : 256;
    while (new_cap < need)
        new_cap *= 2;
    void *new_ptr = realloc (ptr, new_cap * item_size);
    if (!new_ptr) {
        fprintf (stderr, "zetl_lut: out of memory\n");
        abort ();
    }
    *cap = new_cap;
    return new_ptr;
}

// ---------------------------------------------------------------------------
//  The key set: every key of the file, to name the line of a repeated key
//  and of its first occurrence. Open addressing on xxh3; the key bytes live in an
//  arena as [line u64][len u32][bytes].

typedef struct {
    uint64_t hash;  //  xxh3 of the key
    size_t ref;     //  offset + 1 of its entry in the arena; 0: empty slot
} s_slot_t;

typedef struct {
    s_slot_t *slots;  //  capacity entries, a power of two
    size_t capacity;  //  slots
    size_t count;     //  keys held
    char *arena;      //  the entries
    size_t used;      //  bytes used in arena
    size_t cap;       //  bytes allocated at arena
} s_keyset_t;

#define S_ENTRY_HEAD (sizeof (uint64_t) + sizeof (uint32_t))

static void
s_keyset_grow (s_keyset_t *self)
{
    size_t capacity = self->capacity ? self->capacity * 2 : 1024;
    s_slot_t *slots = (s_slot_t *) calloc (capacity, sizeof (s_slot_t));
    assert (slots);
    for (size_t index = 0; index < self->capacity; index++) {
        s_slot_t slot = self->slots[index];
        if (!slot.ref)
            continue;
        size_t at = (size_t) slot.hash & (capacity - 1);
        while (slots[at].ref)
            at = (at + 1) & (capacity - 1);
        slots[at] = slot;
    }
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
}

//  Add KEY (LEN bytes), seen at LINE. Returns 0, or the line of its first
//  occurrence when the key is already there.
static uint64_t
s_keyset_add (s_keyset_t *self, const char *key, size_t len, uint64_t line)
{
    if (2 * (self->count + 1) > self->capacity)
        s_keyset_grow (self);
    uint64_t hash = XXH3_64bits (key, len);
    size_t at = (size_t) hash & (self->capacity - 1);
    for (; self->slots[at].ref; at = (at + 1) & (self->capacity - 1)) {
        if (self->slots[at].hash != hash)
            continue;
        const char *entry = self->arena + self->slots[at].ref - 1;
        uint64_t first_line;
        uint32_t entry_len;
        memcpy (&first_line, entry, sizeof first_line);
        memcpy (&entry_len, entry + sizeof first_line, sizeof entry_len);
        if (entry_len == len && memcmp (entry + S_ENTRY_HEAD, key, len) == 0)
            return first_line;
    }
    self->arena = (char *) s_grow (self->arena, &self->cap, self->used + S_ENTRY_HEAD + len, 1);
    uint32_t len32 = (uint32_t) len;
    memcpy (self->arena + self->used, &line, sizeof line);
    memcpy (self->arena + self->used + sizeof line, &len32, sizeof len32);
    memcpy (self->arena + self->used + S_ENTRY_HEAD, key, len);
    self->slots[at] = (s_slot_t){hash, self->used + 1};
    self->used += S_ENTRY_HEAD + len;
    self->count++;
    return 0;
}

static void
s_keyset_free (s_keyset_t *self)
{
    free (self->slots);
    free (self->arena);
}

// ---------------------------------------------------------------------------
//  One load

typedef struct {
    redisContext *redis;                     //  borrowed; NULL when scan_only
    const char *table;                       //  borrowed
    const char *path;                        //  CSV file, borrowed
    const char *key_column;                  //  borrowed
    char version_key[ZETL_LUT_KEY_SIZE];     //  zetl:lut:<table>:v<version>, once taken
    uint64_t version;                        //  0 until the first chunk goes out
    uint64_t rows;                           //  rows read so far
    uint64_t line;                           //  number of the line last fed
    uint64_t header_line;                    //  line where the header starts, 0: none yet
    char *columns;                           //  comma-separated header, once the first row came
    char *error;                             //  first error: the load stops there
    bool redis_failed;                       //  that error is Redis's, not the file's
    bool key_repeats;                        //  an HSET added fewer fields than it had
    char delimiter;                          //  field delimiter
    bool scan_only;                          //  only look for a repeated key: no Redis
    s_keyset_t keys;                         //  every key so far, when scan_only
    char *chunk;                             //  keys and values of the rows not yet sent
    size_t chunk_used, chunk_cap;            //  bytes used and allocated at chunk
    size_t chunk_rows;                       //  rows in chunk
    size_t offsets[2 * S_CHUNK_ROWS];        //  in chunk: key, value, key, value, ...
    size_t lens[2 * S_CHUNK_ROWS];           //  their lengths
    const char *argv[2 + 2 * S_CHUNK_ROWS];  //  the HSET command
    size_t argvlen[2 + 2 * S_CHUNK_ROWS];    //  its argument lengths
    size_t in_flight;                        //  commands whose replies we have not read
    int64_t expected[S_PENDING];             //  fields each of them adds (-1: not an HSET)
    size_t expected_head;                    //  in expected: the oldest
    int64_t renewed_ms;                      //  when the TTL was last renewed
} s_load_t;

static s_load_t *
s_load_new (redisContext *redis, const char *table, const char *path, const char *key_column,
            char delimiter)
{
    s_load_t *self = (s_load_t *) calloc (1, sizeof (s_load_t));
    assert (self);
    self->redis = redis;
    self->table = table;
    self->path = path;
    self->key_column = key_column;
    self->delimiter = delimiter;
    return self;
}

static void
s_load_destroy (s_load_t **self_p)
{
    s_load_t *self = *self_p;
    s_keyset_free (&self->keys);
    free (self->chunk);
    free (self->columns);
    free (self->error);
    free (self);
    *self_p = NULL;
}

//  Set the error of a failed Redis command, unless there is one already
static void
s_redis_failed (s_load_t *self, const char *detail)
{
    if (!self->error) {
        self->error = zsys_sprintf ("loading %s into table %s: %s", self->path, self->table, detail);
        self->redis_failed = true;
    }
}

//  Check the answer to an HSET of EXPECTED fields. Returns 0 or -1.
static int
s_check_added (s_load_t *self, const redisReply *reply, int64_t expected)
{
    if (expected < 0 || (reply->type == REDIS_REPLY_INTEGER && reply->integer == expected))
        return 0;
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer < expected) {
        //  A field was there already: a key repeats. s_write_rows finds where.
        self->key_repeats = true;
        if (!self->error)
            self->error = strdup ("a key repeats");
    }
    else
        s_redis_failed (self, "HSET answered other than the number of fields it added");
    return -1;
}

//  Read one reply of the pipeline. Returns 0, or -1 with self->error set.
static int
s_read_reply (s_load_t *self)
{
    assert (self->in_flight > 0);
    int64_t expected = self->expected[self->expected_head];
    self->expected_head = (self->expected_head + 1) % S_PENDING;
    self->in_flight--;
    char *detail = NULL;
    char what[ZETL_LUT_KEY_SIZE + 32];
    snprintf (what, sizeof what, "writing %s", self->version_key);
    redisReply *reply = zetl_redis_next_reply (self->redis, what, &detail);
    if (!reply) {
        s_redis_failed (self, detail);
        free (detail);
        return -1;
    }
    int rc = s_check_added (self, reply, expected);
    freeReplyObject (reply);
    return rc;
}

//  Take the next version number. Returns 0, or -1 with self->error set.
static int
s_take_version (s_load_t *self)
{
    char *detail = NULL;
    //  A Redis that lost its data must not hand out a number it gave before:
    //  a new counter starts from the clock (milliseconds since the epoch)
    redisReply *seed = zetl_redis_command (self->redis, &detail, "SET " ZETL_LUT_GENERATION_KEY,
                                           "SET %s %" PRId64 " NX", ZETL_LUT_GENERATION_KEY,
                                           zclock_time ());
    if (seed)
        freeReplyObject (seed);
    free (detail);
    detail = NULL;
    redisReply *reply = zetl_redis_command (self->redis, &detail, "INCR " ZETL_LUT_GENERATION_KEY,
                                            "INCR %s", ZETL_LUT_GENERATION_KEY);
    if (!reply || reply->type != REDIS_REPLY_INTEGER || reply->integer <= 0) {
        s_redis_failed (self, detail ? detail
                                     : "INCR " ZETL_LUT_GENERATION_KEY " did not answer a "
                                       "positive integer; is that key used by something else?");
        free (detail);
        if (reply)
            freeReplyObject (reply);
        return -1;
    }
    self->version = (uint64_t) reply->integer;
    freeReplyObject (reply);
    zetl_lut_version_key (self->version_key, sizeof self->version_key, self->table, self->version);
    return 0;
}

//  Send the rows in the chunk as one HSET, pipelined. Returns 0 or -1.
static int
s_flush (s_load_t *self)
{
    if (self->chunk_rows == 0 || self->error)
        return self->error ? -1 : 0;
    if (!self->version && s_take_version (self) != 0)
        return -1;
    self->argv[0] = "HSET";
    self->argvlen[0] = 4;
    self->argv[1] = self->version_key;
    self->argvlen[1] = strlen (self->version_key);
    size_t argc = 2;
    for (size_t index = 0; index < 2 * self->chunk_rows; index++, argc++) {
        self->argv[argc] = self->chunk + self->offsets[index];
        self->argvlen[argc] = self->lens[index];
    }
    redisAppendCommandArgv (self->redis, (int) argc, self->argv, self->argvlen);
    self->expected[(self->expected_head + self->in_flight++) % S_PENDING] =
        (int64_t) self->chunk_rows;
    //  Until the switch, the hash expires unless we keep renewing it
    int64_t now_ms = zclock_mono ();
    if (self->renewed_ms == 0 || now_ms - self->renewed_ms >= S_RENEW_MS) {
        redisAppendCommand (self->redis, "PEXPIRE %s %d", self->version_key, S_LOAD_TTL_MS);
        self->expected[(self->expected_head + self->in_flight++) % S_PENDING] = -1;
        self->renewed_ms = now_ms;
    }
    self->chunk_rows = 0;
    self->chunk_used = 0;
    while (self->in_flight > S_WINDOW)
        if (s_read_reply (self) != 0)
            return -1;
    return 0;
}

//  Copy a row's KEY and VALUE into the chunk; send it when full
static void
s_append_row (s_load_t *self, const char *key, size_t key_len, const void *value, size_t value_len)
{
    self->chunk =
        (char *) s_grow (self->chunk, &self->chunk_cap, self->chunk_used + key_len + value_len, 1);
    size_t slot = 2 * self->chunk_rows;
    self->offsets[slot] = self->chunk_used;
    self->lens[slot] = key_len;
    memcpy (self->chunk + self->chunk_used, key, key_len);
    self->chunk_used += key_len;
    self->offsets[slot + 1] = self->chunk_used;
    self->lens[slot + 1] = value_len;
    memcpy (self->chunk + self->chunk_used, value, value_len);
    self->chunk_used += value_len;
    if (++self->chunk_rows == S_CHUNK_ROWS)
        s_flush (self);
}

// ---------------------------------------------------------------------------
//  Reading the CSV

//  The header's names from the first row's map: check them and the key
//  column. Returns 0, or -1 with self->error set.
static int
s_take_columns (s_load_t *self, const void *packed, size_t packed_len)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    bool unpacked_map =
        msgpack_unpack_next (&unpacked, packed, packed_len, &offset) == MSGPACK_UNPACK_SUCCESS &&
        unpacked.data.type == MSGPACK_OBJECT_MAP;
    assert (unpacked_map);  //  zetl_csv always makes a map of strings
    (void) unpacked_map;
    int rc = 0;
    const msgpack_object_map *map = &unpacked.data.via.map;
    size_t total = 1, size = 0;
    for (uint32_t index = 0; index < map->size; index++)
        total += map->ptr[index].key.via.str.size + 1;
    self->columns = (char *) malloc (total);
    assert (self->columns);
    bool found = false;
    for (uint32_t index = 0; index < map->size && rc == 0; index++) {
        const msgpack_object_str *name = &map->ptr[index].key.via.str;
        if (memchr (name->ptr, ',', name->size)) {
            self->error =
                zsys_sprintf ("%s:%" PRIu64 ": header column %" PRIu32 " \"%.*s\" holds a "
                          "comma; rename it (column names are kept comma-separated)",
                          self->path, self->header_line, index + 1, (int) name->size, name->ptr);
            rc = -1;
        }
        found = found || (name->size == strlen (self->key_column) &&
                          memcmp (name->ptr, self->key_column, name->size) == 0);
        if (index)
            self->columns[size++] = ',';
        memcpy (self->columns + size, name->ptr, name->size);
        size += name->size;
    }
    self->columns[size] = 0;
    msgpack_unpacked_destroy (&unpacked);
    if (rc == 0 && !found) {
        self->error = zsys_sprintf ("%s:%" PRIu64 ": the header has no column \"%s\" (it has: %s); "
                                "give the key column's name with --key",
                                self->path, self->header_line, self->key_column, self->columns);
        rc = -1;
    }
    return rc;
}

//  zetl_csv: one row, good or bad
static void
s_on_row (void *arg, uint64_t offset, const char *reason, const char *raw, size_t raw_len,
          const void *packed, size_t packed_len, const zetl_field_value_t *values)
{
    (void) offset;
    s_load_t *self = (s_load_t *) arg;
    if (self->error)
        return;
    //  The row ends on the line just fed; its text holds one '\n' per extra line
    uint64_t line = self->line;
    for (const char *nl = raw, *end = raw + raw_len;
         nl < end && (nl = memchr (nl, '\n', (size_t) (end - nl))); nl++)
        line--;
    if (reason) {
        self->error = zsys_sprintf ("%s:%" PRIu64 ": %s; fix the file and load it again", self->path,
                                line, reason);
        return;
    }
    if (!self->columns && s_take_columns (self, packed, packed_len) != 0)
        return;
    const zetl_field_value_t *key = &values[0];
    if (!key->present || key->len == 0) {
        self->error = zsys_sprintf ("%s:%" PRIu64 ": the key column \"%s\" is empty; every row needs "
                                "a key",
                                self->path, line, self->key_column);
        return;
    }
    uint64_t first = self->scan_only ? s_keyset_add (&self->keys, key->ptr, key->len, line) : 0;
    if (first) {
        self->error =
            zsys_sprintf ("%s:%" PRIu64 ": key \"%.*s%s\" is already the key of line %" PRIu64
                      "; keys must be unique",
                      self->path, line, (int) (key->len < S_SHOWN_MAX ? key->len : S_SHOWN_MAX),
                      key->ptr, key->len > S_SHOWN_MAX ? "..." : "", first);
        return;
    }
    self->rows++;
    if (!self->scan_only)
        s_append_row (self, key->ptr, key->len, packed, packed_len);
}

//  Feed the file to zetl_csv, line by line. Returns 0 or -1 (self->error set).
static int
s_read_file (s_load_t *self, FILE *file, zetl_csv_t *csv)
{
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    uint64_t offset = 0;
    while (!self->error && (len = getline (&line, &line_cap, file)) > 0) {
        self->line++;
        if (!self->header_line && strspn (line, "\r\n") < (size_t) len)
            self->header_line = self->line;
        const char *reason = NULL;
        if (zetl_csv_feed_line (csv, line, (size_t) len, offset, s_on_row, self, &reason) != 0)
            self->error = zsys_sprintf ("%s:%" PRIu64 ": %s; fix the header and load it again",
                                    self->path, self->line, reason);
        offset += (uint64_t) len;
    }
    free (line);
    if (!self->error && ferror (file))
        self->error = zsys_sprintf ("cannot read %s: %s", self->path, strerror (errno));
    if (!self->error)
        zetl_csv_finish (csv, s_on_row, self);
    if (!self->error && !self->header_line)
        self->error = zsys_sprintf ("%s: the file is empty; a lookup table needs a header row and "
                                "at least one row",
                                self->path);
    else if (!self->error && self->rows == 0)
        self->error = zsys_sprintf ("%s:%" PRIu64 ": there is a header but no rows%s; a lookup table "
                                "needs at least one row",
                                self->path, self->header_line,
                                self->line > self->header_line ? " (or a quote in the header is "
                                                                 "never closed)"
                                                               : "");
    return self->error ? -1 : 0;
}

//  Read the whole file, row by row. Returns 0 or -1 (self->error set).
static int
s_scan (s_load_t *self)
{
    FILE *file = fopen (self->path, "r");
    if (!file) {
        self->error = zsys_sprintf ("cannot open %s: %s; check the path", self->path, strerror (errno));
        return -1;
    }
    setvbuf (file, NULL, _IOFBF, 1 << 20);
    const char *names[] = {self->key_column};
    zetl_csv_t *csv = zetl_csv_new (self->delimiter, names, 1);
    assert (csv);
    int rc = s_read_file (self, file, csv);
    zetl_csv_destroy (&csv);
    fclose (file);
    return rc;
}

static void s_find_first_problem (s_load_t *self);

//  Read and write every row. Returns 0 or -1 (self->error set).
static int
s_write_rows (s_load_t *self)
{
    int rc = s_scan (self);
    if (rc == 0)
        rc = s_flush (self);
    while (self->in_flight > 0)
        if (s_read_reply (self) != 0)
            rc = -1;  //  Read them all: the connection stays usable for the cleanup
    //  The file is refused. A repeated key shows in replies that come after
    //  the rows that follow it, so a later row may have failed first
    if (rc != 0 && !self->redis_failed)
        s_find_first_problem (self);
    return rc;
}

//  Read the file again, with a key set, to name its first problem in file
//  order: a repeated key, with the line of its first occurrence, or what
//  stopped the first pass. Replaces self->error.
static void
s_find_first_problem (s_load_t *self)
{
    s_load_t *scan = s_load_new (NULL, self->table, self->path, self->key_column, self->delimiter);
    scan->scan_only = true;
    if (s_scan (scan) == 0)
        scan->error = zsys_sprintf ("%s changed while it was loading into table %s (%s); load it "
                                "again when it is complete",
                                self->path, self->table,
                                self->key_repeats ? "a key repeated, now none does"
                                                  : "a row was bad, now none is");
    free (self->error);
    self->error = scan->error;
    scan->error = NULL;
    s_load_destroy (&scan);
}

// ---------------------------------------------------------------------------
//  Switch

//  KEYS: meta, versions, zetl:luts, the version's hash. ARGV: version, rows,
//  key column, columns, loaded_at, table, channel. Returns {0, previous},
//  {1, current} when the table is already at a newer version, {2, hlen} when
//  the hash does not hold every row.
static const char *s_switch_script =
    "local current = redis.call('HGET', KEYS[1], 'version') or '0'\n"
    "if tonumber(current) >= tonumber(ARGV[1]) then return {1, current} end\n"
    "local rows = redis.call('HLEN', KEYS[4])\n"
    "if rows ~= tonumber(ARGV[2]) then return {2, tostring(rows)} end\n"
    "redis.call('PERSIST', KEYS[4])\n"
    "redis.call('HSET', KEYS[1], 'version', ARGV[1], 'rows', ARGV[2], 'key', ARGV[3],\n"
    "           'columns', ARGV[4], 'loaded_at', ARGV[5])\n"
    "redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])\n"
    "redis.call('SADD', KEYS[3], ARGV[6])\n"
    "redis.call('PUBLISH', ARGV[7], ARGV[6] .. ' ' .. ARGV[1])\n"
    "return {0, current}\n";

//  Run the switch script's outcome check. Returns 0 or -1 (self->error set).
static int
s_switch_outcome (s_load_t *self, const redisReply *reply, uint64_t *previous)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_STRING) {
        self->error = zsys_sprintf ("switching table %s to version %" PRIu64 ": unexpected answer "
                                "from the switch script",
                                self->table, self->version);
        return -1;
    }
    const char *value = reply->element[1]->str;
    if (reply->element[0]->integer == 1)
        self->error =
            zsys_sprintf ("table %s went to version %s, loaded meanwhile by another zetlctl "
                      "lut load, while %s was loading as version %" PRIu64
                      "; version %s stays current and %" PRIu64 " is discarded",
                      self->table, value, self->path, self->version, value, self->version);
    else if (reply->element[0]->integer == 2)
        self->error = zsys_sprintf ("switching table %s to version %" PRIu64 ": %s holds %s rows, "
                                "not %" PRIu64 " (did it expire or did something else write "
                                "it?); load the file again",
                                self->table, self->version, self->version_key, value, self->rows);
    else
        *previous = strtoull (value, NULL, 10);
    return self->error ? -1 : 0;
}

//  Make the version current and publish it. Returns 0 or -1 (self->error set).
static int
s_switch (s_load_t *self, uint64_t *previous)
{
    char meta[ZETL_LUT_KEY_SIZE], versions[ZETL_LUT_KEY_SIZE];
    zetl_lut_meta_key (meta, sizeof meta, self->table);
    zetl_lut_versions_key (versions, sizeof versions, self->table);
    char version[24], rows[24], loaded_at[24];
    snprintf (version, sizeof version, "%" PRIu64, self->version);
    snprintf (rows, sizeof rows, "%" PRIu64, self->rows);
    snprintf (loaded_at, sizeof loaded_at, "%" PRId64, zetl_time_now_us () / 1000);
    char *detail = NULL;
    redisReply *reply = zetl_redis_command (
        self->redis, &detail, "switch script", "EVAL %s 4 %s %s %s %s %s %s %s %s %s %s %s",
        s_switch_script, meta, versions, ZETL_LUT_TABLES_KEY, self->version_key, version, rows,
        self->key_column, self->columns, loaded_at, self->table, ZETL_LUT_SWITCH_CHANNEL);
    if (!reply) {
        //  With no answer at all, it may have run
        self->error = zsys_sprintf ("switching table %s to version %" PRIu64 ": %s%s", self->table,
                                self->version, detail,
                                self->redis->err ? "; the switch may have happened: check with "
                                                   "zetlctl lut list"
                                                 : "");
        free (detail);
        return -1;
    }
    int rc = s_switch_outcome (self, reply, previous);
    freeReplyObject (reply);
    return rc;
}

//  Delete the version a refused or failed load began to write
static void
s_discard (s_load_t *self)
{
    if (!self->version)
        return;
    //  A switch that failed half-way, or answered too late, may still have
    //  made the version current: never delete that one
    uint64_t current = 0;
    char *detail = NULL;
    redisReply *reply = NULL;
    if (zetl_lut_current (self->redis, self->table, &current, &detail) == 0 &&
        current != self->version)
        reply = zetl_redis_command (self->redis, &detail, "UNLINK", "UNLINK %s", self->version_key);
    if (reply)
        freeReplyObject (reply);
    else if (detail) {
        //  Unless the switch made it current, its TTL removes it within S_LOAD_TTL_MS
        zetl_log_warn ("lut", "lut_discard_failed",
                       json_pack ("{s:s, s:s, s:s}", "table", self->table, "key", self->version_key,
                                  "error", detail));
        free (detail);
    }
}

//  Check the arguments of a load. Returns 0, or -1 with *ERROR set.
static int
s_check_load (const char *table, const char *key_column, char delimiter, char **error)
{
    if (zetl_lut_check_table (table, error) != 0)
        return -1;
    if (!key_column || !*key_column) {
        *error = zsys_sprintf ("no key column for table %s; name it (--key COLUMN)", table);
        return -1;
    }
    if (delimiter == '"' || delimiter == '\n' || delimiter == '\r' || delimiter == 0) {
        *error = zsys_sprintf ("the delimiter cannot be a quote, a line break or NUL; use e.g. ',' "
                           "';' or a tab");
        return -1;
    }
    return 0;
}

int
zetl_lut_load (redisContext *redis, const char *table, const char *csv_path, const char *key_column,
               char delimiter, zetl_lut_loaded_t *out, char **error)
{
    assert (redis);
    assert (csv_path);
    assert (error);
    *error = NULL;
    if (s_check_load (table, key_column, delimiter, error) != 0)
        return -1;
    s_load_t *self = s_load_new (redis, table, csv_path, key_column, delimiter);
    uint64_t previous = 0, removed = 0;
    int rc = s_write_rows (self);
    if (rc == 0)
        rc = s_switch (self, &previous);
    if (rc != 0) {
        s_discard (self);
        *error = self->error;
        self->error = NULL;
        s_load_destroy (&self);
        return -1;
    }
    char *gc_error = NULL;
    if (zetl_lut_gc (redis, table, &removed, &gc_error) != 0) {
        //  The new version is current all the same: the next load collects
        zetl_log_warn ("lut", "lut_gc_failed",
                       json_pack ("{s:s, s:s}", "table", table, "error", gc_error));
        free (gc_error);
    }
    if (out)
        *out = (zetl_lut_loaded_t){self->version, self->rows, previous, removed};
    s_load_destroy (&self);
    return 0;
}

