/*  zetl_curve - CURVE security on zetl's sockets  */
#include "zetl_curve.h"
#include "zetl_log.h"

static struct {
    zcert_t *cert;                           //  this process's key pair, NULL: off
    char server[ZETL_CURVE_KEY_LEN + 1];     //  the coordinator's public key, "" unknown
    char *allowed;                           //  allowed client certificates, or NULL
    zactor_t *auth;                          //  zauth, started by the first server socket
} s_curve;

static const char *
s_env (const char *name)
{
    const char *value = getenv (name);
    return value && *value ? value : NULL;
}

void
zetl_curve_args_from_env (zetl_curve_args_t *args)
{
    if (!args->certificate)
        args->certificate = s_env ("ZETL_CURVE_CERT");
    if (!args->server)
        args->server = s_env ("ZETL_CURVE_SERVER");
    if (!args->allowed)
        args->allowed = s_env ("ZETL_CURVE_ALLOWED");
}

bool
zetl_curve_key_valid (const char *text)
{
    if (!text || strlen (text) != ZETL_CURVE_KEY_LEN)
        return false;
    byte key[32];
    return zmq_z85_decode (key, text) != NULL;
}

//  The server key SERVER names: a Z85 key itself, or a certificate file
static int
s_server_key (const char *server, char **error)
{
    if (zetl_curve_key_valid (server)) {
        snprintf (s_curve.server, sizeof s_curve.server, "%s", server);
        return 0;
    }
    zcert_t *cert = zcert_load (server);
    if (!cert) {
        *error = zsys_sprintf ("the server key %s is neither a Z85 key nor a certificate file "
                               "that loads; give the coordinator's public certificate "
                               "(zetlctl keys new)",
                               server);
        return -1;
    }
    snprintf (s_curve.server, sizeof s_curve.server, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

int
zetl_curve_setup (const zetl_curve_args_t *args, char **error)
{
    if (!args->certificate)
        return 0;
    if (!zsys_has_curve ()) {
        *error = zsys_sprintf ("CURVE is configured (%s) but libzmq was built without it",
                               args->certificate);
        return -1;
    }
    //  zcert_load takes NAME_secret when it exists: the key pair
    s_curve.cert = zcert_load (args->certificate);
    if (!s_curve.cert || !zcert_secret_txt (s_curve.cert)
        || streq (zcert_secret_txt (s_curve.cert), "0000000000000000000000000000000000000000")) {
        zcert_destroy (&s_curve.cert);
        *error = zsys_sprintf ("the certificate %s does not load, or has no %s_secret beside it; "
                               "make one with zetlctl keys new NAME",
                               args->certificate, args->certificate);
        return -1;
    }
    const char *missing = args->serves && !args->allowed    ? "ZETL_CURVE_ALLOWED (the directory "
                                                                "of the certificates it lets in)"
                          : args->connects && !args->server ? "ZETL_CURVE_SERVER (the "
                                                              "coordinator's public certificate)"
                                                            : NULL;
    if (missing) {
        zcert_destroy (&s_curve.cert);
        *error = zsys_sprintf ("CURVE is on (%s), so this process also needs %s",
                               args->certificate, missing);
        return -1;
    }
    if (args->server && s_server_key (args->server, error) != 0) {
        zcert_destroy (&s_curve.cert);
        return -1;
    }
    s_curve.allowed = args->allowed ? strdup (args->allowed) : NULL;
    zetl_log_info ("curve", "curve_on",
                   json_pack ("{s:s, s:s, s:s?}", "public_key", zcert_public_txt (s_curve.cert),
                              "server_key", *s_curve.server ? s_curve.server : "",
                              "allowed", s_curve.allowed));
    return 0;
}

bool
zetl_curve_on (void)
{
    return s_curve.cert != NULL;
}

const char *
zetl_curve_public (void)
{
    return s_curve.cert ? zcert_public_txt (s_curve.cert) : NULL;
}

void
zetl_curve_serve (zsock_t *socket)
{
    if (!s_curve.cert)
        return;
    assert (s_curve.allowed);  //  zetl_curve_setup asks for it when the process serves
    if (!s_curve.auth) {
        s_curve.auth = zactor_new (zauth, NULL);
        zstr_sendx (s_curve.auth, "CURVE", s_curve.allowed, NULL);
        zsock_wait (s_curve.auth);
    }
    zcert_apply (s_curve.cert, socket);
    zsock_set_curve_server (socket, 1);
    zsock_set_zap_domain (socket, "zetl");
}

zsock_t *
zetl_curve_new_sub (const char *endpoint, const char *topic)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    assert (sub);
    zetl_curve_connect (sub, NULL);
    zsock_set_subscribe (sub, topic);
    zsock_connect (sub, "%s", endpoint);
    return sub;
}

void
zetl_curve_connect (zsock_t *socket, const char *server_key)
{
    if (!s_curve.cert)
        return;
    zcert_apply (s_curve.cert, socket);
    zsock_set_curve_serverkey (socket, server_key ? server_key : s_curve.server);
}

void
zetl_curve_teardown (void)
{
    zactor_destroy (&s_curve.auth);
    zcert_destroy (&s_curve.cert);
    free (s_curve.allowed);
    s_curve.allowed = NULL;
    s_curve.server[0] = '\0';
}
