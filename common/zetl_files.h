/*  zetl_files - small file-system helpers of the throwaway servers

    What zetl_localpg and zetl_localredis both need around the servers they
    start: a private directory made with its parents, and the last lines of
    a server's log for an error message.
*/
#ifndef ZETL_FILES_H_INCLUDED
#define ZETL_FILES_H_INCLUDED

//  mkdir -p PATH, the last component private (0700). Returns 0 or -1.
int zetl_files_mkdir_parents (const char *path);

//  The last 4 non-empty lines of file PATH after byte FROM (within its last
//  1.5 KiB), joined with " | ", or "(no output)". Caller owns the result.
char *zetl_files_tail (const char *path, long from);

#endif
