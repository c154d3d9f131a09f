/*  zetl_ctl_keys - `zetlctl keys new NAME`: a CURVE key pair

    Writes a czmq certificate for NAME: DIR/NAME holds the public key (copy
    it into the coordinator's or sink's allowed directory), DIR/NAME_secret
    the key pair (ZETL_CURVE_CERT=DIR/NAME for the process that is NAME; keep
    it private: it is written readable by its owner only). An existing pair
    is never overwritten. docs/SECURITY.md shows a whole cluster's keys.
*/
#include "zetl_ctl.h"

#include <czmq.h>
#include <getopt.h>
#include <sys/stat.h>

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: zetlctl keys new NAME [--dir DIR]\n"
                  "Makes a CURVE key pair for NAME (a coordinator, worker, sink, producer or\n"
                  "subscriber): DIR/NAME holds its public key, DIR/NAME_secret the pair (mode\n"
                  "0600). DIR defaults to the current directory; it is made if missing. An\n"
                  "existing pair is never overwritten. Prints the public key.\n");
}

//  Whether NAME is a plain file name: letters, digits, '-', '_' and '.', not starting with '.'
static bool
s_plain_name (const char *name)
{
    if (!*name || *name == '.' || strlen (name) > 128)
        return false;
    for (const char *c = name; *c; c++)
        if (!isalnum ((unsigned char) *c) && *c != '-' && *c != '_' && *c != '.')
            return false;
    return true;
}

static int
s_new (const char *name, const char *dir)
{
    if (!s_plain_name (name)) {
        fprintf (stderr, "zetlctl keys: '%s' is not a plain name; use letters, digits, - _ .\n",
                 name);
        return 2;
    }
    if (zsys_dir_create ("%s", dir) != 0) {
        fprintf (stderr, "zetlctl keys: cannot make %s: %s\n", dir, strerror (errno));
        return 1;
    }
    char *path = zsys_sprintf ("%s/%s", dir, name);
    char *secret = zsys_sprintf ("%s_secret", path);
    int rc = 0;
    if (zsys_file_exists (path) || zsys_file_exists (secret)) {
        fprintf (stderr, "zetlctl keys: %s or %s exists already; remove it first to replace it\n",
                 path, secret);
        rc = 1;
    }
    else {
        zcert_t *cert = zcert_new ();
        zcert_set_meta (cert, "name", "%s", name);
        zcert_set_meta (cert, "made-by", "zetlctl keys new");
        mode_t before = umask (077);  //  The secret file: its owner's alone
        rc = zcert_save (cert, path) == 0 ? 0 : 1;
        umask (before);
        if (rc == 0 && chmod (path, 0644) == 0)
            printf ("{\"name\":\"%s\",\"public\":\"%s\",\"public_key\":\"%s\",\"secret\":\"%s\"}\n",
                    name, path, zcert_public_txt (cert), secret);
        else
            fprintf (stderr, "zetlctl keys: cannot write %s: %s\n", path, strerror (errno));
        zcert_destroy (&cert);
    }
    free (secret);
    free (path);
    return rc;
}

int
zetl_ctl_keys (int argc, char **argv)
{
    static const struct option options[] = {{"dir", required_argument, NULL, 'd'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *dir = ".";
    int option;
    optind = 1;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (option == 'd')
            dir = optarg;
        else {
            s_usage (option == 'h' ? stdout : stderr);
            return option == 'h' ? 0 : 2;
        }
    }
    if (optind + 2 != argc || strcmp (argv[optind], "new") != 0) {
        s_usage (stderr);
        return 2;
    }
    return s_new (argv[optind + 1], dir);
}
