/*  zetl_lut - lookup tables in Redis: loading, switching, pinning, collecting

    Workers enrich records from lookup tables ("LUTs") held in Redis. A table
    is loaded from a CSV file as a new version, which then becomes current in
    one atomic step; older versions stay while a coordinator pins them (an
    uncommitted batch was enriched with them, and a replay must see the same
    rows) and are deleted once no pin holds them. zetlctl lut load and list
    use this module; workers use its key names and zetl_lut_parse_switch.

    Redis layout (other zetl code relies on it; change it nowhere but here):

      zetl:lut:generation          INCR counter: each load takes the next number as its
                                   version, so versions are unique and increase across
                                   all tables; a missing counter starts from the clock
                                   (ms since the epoch), so a Redis that lost its data
                                   never hands out a version it gave before
      zetl:lut:<table>:v<version>  HASH: field = the key column's text, value = the row
                                   as a packed msgpack map column name -> string (nil for
                                   an empty unquoted CSV field), the bytes zetl_csv makes
      zetl:lut:<table>             HASH describing the CURRENT version: version, rows,
                                   key (the key column), columns (the header, comma-
                                   separated), loaded_at (ms since the epoch)
      zetl:lut:<table>:versions    ZSET of the versions still in Redis (score = version)
      zetl:luts                    SET of the table names
      zetl:lut:<table>:pin:<version>
                                   a key with a TTL: while it exists, that version is
                                   not deleted. Coordinators set it for the versions
                                   uncommitted batches use and refresh its TTL
      channel zetl:lut:switch      on each switch, PUBLISH "<table> <version>"

    Table names match [a-z0-9_-]+ and have at most 63 bytes.

    A load writes the new version's hash while the old version stays
    current; until the switch, the new hash carries a TTL (10 minutes,
    renewed as rows are written), so a load that dies half-way leaves
    nothing behind for long. The switch is one Lua script: it checks the
    hash holds every row, makes the version current (meta hash, versions
    ZSET, zetl:luts) and publishes it, all at once. It refuses to move a
    table back to an older version, so of two concurrent loads of one table
    the later one wins. Collection deletes (UNLINK) each version older than
    the current one that has no pin key, in one script, so a pin set at the
    same moment either saves the version or fails (zetl_lut_pin checks the
    version still exists).

    All functions are blocking calls on a hiredis connection the caller owns
    (zetl_redis_connect). Each returns 0, or -1 with *ERROR set to a message
    saying what failed, where and what to do (caller owns *ERROR, free it).
*/
#ifndef ZETL_LUT_H_INCLUDED
#define ZETL_LUT_H_INCLUDED

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZETL_LUT_TABLE_MAX 63                          //  bytes in a table name, at most
#define ZETL_LUT_KEY_SIZE 128                          //  a buffer this big holds any key name
#define ZETL_LUT_GENERATION_KEY "zetl:lut:generation"  //  the version counter
#define ZETL_LUT_TABLES_KEY "zetl:luts"                //  SET of table names
#define ZETL_LUT_SWITCH_CHANNEL "zetl:lut:switch"      //  "<table> <version>" on each switch

//  What a load did
typedef struct {
    uint64_t version;   //  the version loaded, now current
    uint64_t rows;      //  rows in it
    uint64_t previous;  //  the version current before, 0 if none
    uint64_t removed;   //  older versions deleted after the switch (the unpinned ones)
} zetl_lut_loaded_t;

//  One version of a table still in Redis
typedef struct {
    uint64_t version;    //  its number
    uint64_t rows;       //  fields in its hash (HLEN)
    int64_t pin_ttl_ms;  //  time left on its pin, or -1 when not pinned
} zetl_lut_version_t;

//  One table, as zetl_lut_list finds it
typedef struct {
    char name[ZETL_LUT_TABLE_MAX + 1];  //  table name
    uint64_t version;                   //  current version, 0 if none (a table mid-removal)
    uint64_t rows;                      //  rows in the current version
    char *key;                          //  key column, owned
    char *columns;                      //  comma-separated header, owned
    int64_t loaded_at_ms;               //  when the current version became current
    zetl_lut_version_t *versions;       //  versions present, oldest first, owned
    size_t version_count;               //  entries in versions
} zetl_lut_info_t;

//  Every table, sorted by name
typedef struct {
    zetl_lut_info_t *tables;  //  owned
    size_t count;             //  entries in tables
} zetl_lut_list_t;

//  Load CSV_PATH (header row, RFC 4180 quoting, fields separated by
//  DELIMITER) as a new version of TABLE keyed by the column KEY_COLUMN,
//  make it current, publish the switch, then delete the older versions no
//  pin holds. The file is refused as a whole, with its name and the line
//  (and for a duplicate key, the line of the first occurrence), when a row's
//  field count differs from the header's, a key is empty or missing, a key
//  repeats, a quote is misplaced or unterminated, the header lacks
//  KEY_COLUMN or holds a comma in a name, or the file has no header or no
//  rows; also when TABLE is not a valid name. Then nothing becomes current
//  and the partly written version is deleted. On success fills *OUT (may be
//  NULL). Streams the file in one pass (memory holds a few thousand rows
//  at a time); a refused file is read a second time, with a key set, to
//  name its first problem in file order.
int zetl_lut_load (redisContext *redis, const char *table, const char *csv_path,
                   const char *key_column, char delimiter, zetl_lut_loaded_t *out, char **error);

//  Set *VERSION to TABLE's current version, or 0 if the table does not
//  exist (that is no error).
int zetl_lut_current (redisContext *redis, const char *table, uint64_t *version, char **error);

//  Pin VERSION of TABLE for TTL_MS (> 0) from now: it is not deleted while
//  the pin lasts. Pinning again renews the TTL. TTL_MS 0 removes the pin.
//  Fails when the version is no longer in Redis (an unpinned old version
//  was collected): a batch enriched with it cannot be replayed as it was.
int zetl_lut_pin (redisContext *redis, const char *table, uint64_t version, int64_t ttl_ms,
                  char **error);

//  Delete every version of TABLE older than the current one that has no
//  pin key. Sets *REMOVED (may be NULL) to how many it deleted.
int zetl_lut_gc (redisContext *redis, const char *table, uint64_t *removed, char **error);

//  Return every table with its current version, meta and the versions still
//  present, or NULL with *ERROR set. Caller owns the result: destroy it with
//  zetl_lut_list_destroy.
zetl_lut_list_t *zetl_lut_list (redisContext *redis, char **error);

//  Destroy the list and set *SELF_P to NULL. Does nothing if *SELF_P is NULL.
void zetl_lut_list_destroy (zetl_lut_list_t **self_p);

//  True when TABLE is a valid table name: [a-z0-9_-]+, at most 63 bytes.
bool zetl_lut_table_valid (const char *table);

//  Returns 0 when TABLE is a valid table name, or -1 with *ERROR set to a
//  message saying what a name may hold (caller owns it).
int zetl_lut_check_table (const char *table, char **error);

//  Key names, written into BUF (SIZE bytes; ZETL_LUT_KEY_SIZE is always
//  enough for a valid table name): zetl:lut:<table>:v<version>,
//  zetl:lut:<table>, zetl:lut:<table>:versions and
//  zetl:lut:<table>:pin:<version>.
void zetl_lut_version_key (char *buf, size_t size, const char *table, uint64_t version);
void zetl_lut_meta_key (char *buf, size_t size, const char *table);
void zetl_lut_versions_key (char *buf, size_t size, const char *table);
void zetl_lut_pin_key (char *buf, size_t size, const char *table, uint64_t version);

//  Parse MESSAGE (LEN bytes), a message of channel zetl:lut:switch, into
//  TABLE (ZETL_LUT_TABLE_MAX + 1 bytes) and *VERSION. Returns 0, or -1 when
//  it is not "<table> <version>".
int zetl_lut_parse_switch (const char *message, size_t len, char *table, uint64_t *version);

#endif
