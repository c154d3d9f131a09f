/*  zetl_producer_session - a producer's session with the coordinator: HELLO, WELCOME, ERROR

    Part of a producer (zetl_producer.h), on the thread that uses it. Says
    HELLO, adopts the configuration a WELCOME carries and finds the pipeline
    to feed in it, takes the sequence numbering from WELCOME, and on a new
    session (a WELCOME of another epoch or configuration, or ERROR
    UNKNOWN_PEER or CONFIG) has the window resend what it holds.
*/
#include "zetl_producer_internal.h"

#define S_HELLO_MS 1000       //  repeat an unanswered HELLO this often
#define S_HELLO_RETRY_MS 100  //  or this soon when it could not be sent at all

void
zetl_producer_send_hello (zetl_producer_t *self)
{
    zetl_msg_t *hello = zetl_msg_new (ZETL_MSG_HELLO);
    hello->code = ZETL_ROLE_PRODUCER;
    zetl_msg_set_str (&hello->name, self->name);
    //  Refused only while not connected (ZMQ_IMMEDIATE): then try again soon
    int rc = zetl_msg_send (hello, self->dealer);
    zetl_msg_destroy (&hello);
    self->welcomed = false;
    self->next_hello_ms = zclock_mono () + (rc == 0 ? S_HELLO_MS : S_HELLO_RETRY_MS);
}

//  Write the ids of CONFIG's pipelines, comma-separated, into LIST (SIZE bytes)
static void
s_pipeline_list (const zetl_config_t *config, char *list, size_t size)
{
    size_t used = 0;
    list[0] = '\0';
    for (size_t index = 0; index < config->pipeline_count && used + 1 < size; index++) {
        int n = snprintf (list + used, size - used, "%s%s", index ? ", " : "",
                          config->pipelines[index].id);
        used += n > 0 ? (size_t) n : 0;
    }
}

//  Find the pipeline to feed in CONFIG. Returns its index, or -1 with
//  self->refusal set
static int
s_find_pipeline (zetl_producer_t *self, const zetl_config_t *config)
{
    char list[512];
    s_pipeline_list (config, list, sizeof list);
    if (!self->pipeline_id) {
        if (config->pipeline_count == 1)
            return 0;
        self->refusal =
            zsys_sprintf ("the coordinator at %s runs %zu pipelines (%s): say which one "
                          "to feed",
                          self->endpoint, config->pipeline_count, list);
        return -1;
    }
    for (size_t index = 0; index < config->pipeline_count; index++)
        if (streq (config->pipelines[index].id, self->pipeline_id))
            return (int) index;
    self->refusal = zsys_sprintf ("pipeline \"%s\" is not in the configuration of the coordinator "
                                  "at %s (its pipelines: %s)",
                                  self->pipeline_id, self->endpoint, list);
    return -1;
}

//  Adopt the configuration of WELCOME if it is new. Returns 0, or -1 with
//  self->refusal set when it cannot be used
static int
s_adopt (zetl_producer_t *self, zetl_msg_t *welcome)
{
    if (self->config && self->config_hash == welcome->config_hash)
        return 0;
    zstr_free (&self->refusal);
    if (!welcome->body) {
        self->refusal = zsys_sprintf ("the coordinator at %s sent WELCOME without its "
                                      "configuration; run the same zetl version on both sides",
                                      self->endpoint);
        return -1;
    }
    char *error = NULL;
    zetl_config_t *config =
        zetl_config_parse ((const char *) zframe_data (welcome->body), zframe_size (welcome->body),
                           "coordinator configuration", &error);
    if (!config) {
        self->refusal = zsys_sprintf ("the configuration of the coordinator at %s does not parse "
                                      "here (%s); run the same zetl version on both sides",
                                      self->endpoint, error ? error : "?");
        free (error);
        return -1;
    }
    int index = s_find_pipeline (self, config);
    if (index < 0) {
        zetl_config_destroy (&config);
        return -1;
    }
    if (!self->pipeline_id)
        self->pipeline_id = strdup (config->pipelines[index].id);
    zetl_config_destroy (&self->config);
    self->config = config;
    self->config_hash = welcome->config_hash;
    self->pipeline = (uint32_t) index;
    return 0;
}

void
zetl_producer_welcome (zetl_producer_t *self, zetl_msg_t *welcome)
{
    uint64_t hash_before = self->config_hash;
    if (s_adopt (self, welcome) != 0) {
        //  A configuration without our pipeline (a reload) or from another
        //  version: hold everything, and ask again only at the resend pace
        if (self->ever_welcomed)
            zetl_log_error ("producer", "welcome_unusable",
                            json_pack ("{s:s, s:s}", "name", self->name, "error", self->refusal));
        self->welcomed = false;
        self->next_hello_ms = zclock_mono () + self->options.resend_ms;
        return;
    }
    //  A new session: the coordinator may have lost whatever was on its way
    bool new_session = self->ever_welcomed && (!self->welcomed || welcome->epoch != self->epoch ||
                                               welcome->config_hash != hash_before);
    self->epoch = welcome->epoch;
    self->welcomed = true;
    self->ever_welcomed = true;

    //  Everything up to batch_id is ACKed: ACKs may have been lost on the way
    if (self->held > 0) {
        //  By sequence, not slot: each ACK may move the head
        uint64_t first = zetl_producer_slot (self, 0)->sequence;
        uint64_t last = first + self->held - 1;
        for (uint64_t sequence = first; sequence <= last && sequence <= welcome->batch_id;
             sequence++)
            zetl_producer_ack (self, sequence);
    }
    if (welcome->batch_id >= self->next_sequence) {
        //  After a restart this is where our numbering goes on. Beyond what
        //  this producer sent, it means another one uses the same name
        if (self->stats.batches > 0)
            zetl_log_warn ("producer", "producer_name_shared",
                           json_pack ("{s:s, s:I, s:I, s:s}", "name", self->name, "acked",
                                      (json_int_t) welcome->batch_id, "sent",
                                      (json_int_t) (self->next_sequence - 1), "hint",
                                      "give every producer a name of its own"));
        self->next_sequence = welcome->batch_id + 1;
    }
    //  A producer that has sent nothing yet numbers above every sequence of
    //  its name the coordinator took or has committed records of (attempt),
    //  so that its records are never mistaken for replays of an earlier run
    if (self->stats.batches == 0 && welcome->attempt >= self->next_sequence)
        self->next_sequence = (uint64_t) welcome->attempt + 1;
    if (new_session) {
        zetl_log_info ("producer", "producer_session",
                       json_pack ("{s:s, s:i, s:i}", "name", self->name, "epoch", (int) self->epoch,
                                  "held", (int) self->held));
        zetl_producer_resend_all (self);
    }
}

void
zetl_producer_error (zetl_producer_t *self, zetl_msg_t *error)
{
    if (error->code == ZETL_ERR_UNKNOWN_PEER || error->code == ZETL_ERR_CONFIG) {
        //  The coordinator restarted, was replaced, or reloaded: a new
        //  session. While a HELLO is out, the ERRORs for what we sent
        //  before it need no HELLO of their own
        if (self->welcomed) {
            zetl_log_warn ("producer", "producer_rehello",
                           json_pack ("{s:s, s:i, s:s}", "name", self->name, "code",
                                      (int) error->code, "text", error->text ? error->text : ""));
            zetl_producer_send_hello (self);
        }
        return;
    }
    if (!self->ever_welcomed && !self->refusal)
        self->refusal =
            zsys_sprintf ("the coordinator at %s refused HELLO: %s (error %u)", self->endpoint,
                          error->text ? error->text : "", (unsigned) error->code);
    if (zetl_log_every (&self->errors, 60000))
        zetl_log (error->code == ZETL_ERR_VERSION ? ZETL_LOG_ERROR : ZETL_LOG_WARN, "producer",
                  "coordinator_error",
                  json_pack ("{s:s, s:i, s:s, s:I, s:I}", "name", self->name, "code",
                             (int) error->code, "text", error->text ? error->text : "", "batch_id",
                             (json_int_t) error->batch_id, "seen", (json_int_t) self->errors.seen));
}
