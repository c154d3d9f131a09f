/*  zetl_files - small file-system helpers of the throwaway servers  */
#include "zetl_files.h"

#include <czmq.h>

#include <errno.h>
#include <sys/stat.h>

int
zetl_files_mkdir_parents (const char *path)
{
    char *copy = strdup (path);
    for (char *slash = strchr (copy + 1, '/'); slash; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        if (mkdir (copy, 0755) != 0 && errno != EEXIST) {
            free (copy);
            return -1;
        }
        *slash = '/';
    }
    free (copy);
    return mkdir (path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

char *
zetl_files_tail (const char *path, long from)
{
    char buffer[1536] = "";
    FILE *file = fopen (path, "r");
    if (file) {
        fseek (file, 0, SEEK_END);
        long size = ftell (file);
        fseek (file,
               size - from > (long) sizeof buffer - 1 ? size - (long) sizeof buffer + 1 : from,
               SEEK_SET);
        size_t len = fread (buffer, 1, sizeof buffer - 1, file);
        buffer[len] = 0;
        fclose (file);
    }
    //  Keep the last 4 non-empty lines
    char *lines[4] = {NULL};
    int count = 0;
    char *saveptr = NULL;
    for (char *line = strtok_r (buffer, "\n", &saveptr); line;
         line = strtok_r (NULL, "\n", &saveptr))
        if (*line) {
            memmove (lines, lines + 1, 3 * sizeof (char *));
            lines[3] = line;
            count++;
        }
    char *tail = strdup (count ? "" : "(no output)");
    for (int index = count < 4 ? 4 - count : 0; index < 4; index++) {
        char *joined = zsys_sprintf ("%s%s%s", tail, *tail ? " | " : "", lines[index]);
        free (tail);
        tail = joined;
    }
    return tail;
}
