/*  config_fuzz - libFuzzer target for the configuration parser (common/zetl_config)

    The input is the YAML text a worker or sink gets in WELCOME: parsed with
    zetl_config_parse (exactly the input's bytes, no NUL after them), then
    destroyed. It must return a configuration or an error message, never
    both and never neither. Any failed check aborts, which libFuzzer reports
    as a crash.
*/
#include "zetl_config.h"
#include "zetl_fuzz.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *error = NULL;
    zetl_config_t *config = zetl_config_parse ((const char *) data, size, "fuzz.yaml", &error);
    if ((config == NULL) == (error == NULL)) {
        fprintf (stderr, "config_fuzz: zetl_config_parse returned %s and %s\n",
                 config ? "a configuration" : "no configuration", error ? "an error" : "no error");
        abort ();
    }
    if (error) {
        volatile size_t length = strlen (error);  //  A whole C string
        (void) length;
        free (error);
    }
    zetl_config_destroy (&config);
    return 0;
}
