/*  zetl_transform - a pipeline's transform steps, applied to one record

    The steps of the pipeline's `transform:` run in the configured order on
    the record's fields (zetl_fields), before enrichment and before the
    schema's casts and rules:

      trim, lower, upper   on string values (Unicode: zetl_text); other
                           values are left as they are
      default              sets a field that is missing, null or ""
      rename, drop         move or remove fields
      cast                 converts a value to string, int, number, bool,
                           timestamp (ISO 8601 text in UTC) or date
                           (YYYY-MM-DD; a timestamp gives its UTC date)
      utc                  ISO 8601 timestamps with any offset to UTC text
      compute              sets a field from an expression (zetl_expr)
      utm                  trims and lowercases campaign, source, medium,
                           term and content fields; missing or empty ones
                           become unknown_<name>

    A value that does not convert (cast, utc) or an expression that fails
    (compute) rejects the record with the field and the step's name as its
    reason. A transformer is made once per pipeline and used by one thread.
*/
#ifndef ZETL_TRANSFORM_H_INCLUDED
#define ZETL_TRANSFORM_H_INCLUDED

#include "zetl_config.h"
#include "zetl_fields.h"
#include "zetl_status.h"
#include "zetl_validate.h"

typedef struct zetl_transform zetl_transform_t;

//  Create the transformer of PIPELINE (borrowed: must outlive it). Returns
//  NULL with *ERROR set (caller owns it) if an expression does not parse,
//  which the configuration's own check makes impossible.
zetl_transform_t *zetl_transform_new (const zetl_pipeline_t *pipeline, char **error);
void zetl_transform_destroy (zetl_transform_t **self_p);

//  Apply every step to FIELDS. Returns ZETL_OK, or ZETL_REJECT with *REJECT
//  filled.
zetl_status_t zetl_transform_apply (zetl_transform_t *self, zetl_fields_t *fields,
                                    zetl_reject_t *reject);

#endif
