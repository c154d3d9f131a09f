/*  producer_ctl_test - programs that produce, against a fake coordinator:
    `zetlctl produce` from files and stdin (its summary line, the name it
    derives, rejected lines, a missing file, usage), and the example
    program of docs/PRODUCERS.md, compiled and run here
*/
#include "zetl_ctl.h"

#include <unistd.h>

#include "producer_fixtures.h"

//  The example program, compiled and run here against the fake coordinator
int producer_example_main (int argc, char **argv);
#define main producer_example_main
#include "../../docs/examples/producer_example.c"
#undef main

static const char s_one_pipeline[] = "pipelines:\n" S_PIPELINE ("events", "300");

static int
s_setup_one (void **state)
{
    return s_setup_with (state, s_one_pipeline);
}

//  Run `zetlctl produce ARGV…` with stdout into OUT (SIZE bytes). Returns the exit code
static int
s_run_ctl (int argc, char **argv, char *out, size_t size)
{
    char path[] = "/tmp/producer_ctl_test_out_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    fflush (stdout);
    int saved = dup (STDOUT_FILENO);
    dup2 (fd, STDOUT_FILENO);
    int rc = zetl_ctl_produce (argc, argv);
    fflush (stdout);
    dup2 (saved, STDOUT_FILENO);
    close (saved);
    ssize_t got = pread (fd, out, size - 1, 0);
    out[got > 0 ? got : 0] = '\0';
    close (fd);
    unlink (path);
    return rc;
}

//  OUT is the summary line of `zetlctl produce` with these numbers, nothing resent
static void
s_check_summary (const char *out, int records, int batches, int rejected)
{
    char expected[128];
    snprintf (expected, sizeof expected,
              "{\"records\":%d,\"batches\":%d,\"resent\":0,\"rejected\":%d}\n", records, batches,
              rejected);
    assert_string_equal (out, expected);
}

typedef struct {
    int fd;                      //  the pipe's write end
    _Atomic uint64_t *taken;     //  batches the fake coordinator took
} slow_writer_t;

//  Write one line into the pipe, wait until the linger has sent it as a batch
//  of its own (polled, with a deadline), write another and close the pipe
static void
s_slow_writer (zsock_t *pipe, void *args)
{
    slow_writer_t *writer = (slow_writer_t *) args;
    int fd = writer->fd;
    uint64_t before = *writer->taken;
    zsock_signal (pipe, 0);
    const char *first = "{\"i\":0,\"s\":\"record-0\"}\n";
    const char *second = "{\"i\":1,\"s\":\"record-1\"}\n";
    ssize_t written = write (fd, first, strlen (first));
    int64_t deadline = zclock_mono () + 10000;
    while (*writer->taken == before && zclock_mono () < deadline)
        zclock_sleep (10);  //  Poll interval
    written += write (fd, second, strlen (second));
    assert (written == (ssize_t) (strlen (first) + strlen (second)));
    close (fd);
    free (zstr_recv (pipe));  //  $TERM
}

static void
test_ctl_produce (void **state)
{
    env_t *env = (env_t *) *state;
    char path[] = "/tmp/producer_ctl_test_in_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    const char *lines = "{\"i\":0,\"s\":\"record-0\"}\n"
                        "\n"
                        "not json\n"
                        "{\"i\":1,\"s\":\"record-1\"}\r\n"
                        "[3]\n"
                        "{\"i\":2,\"s\":\"record-2\"}";  //  The last line has no newline
    assert_int_equal (write (fd, lines, strlen (lines)), (ssize_t) strlen (lines));
    close (fd);

    char *argv[] = {"produce", "--coordinator", env->args.endpoint, "--name", "ctl-test", path,
                    NULL};
    char out[256];
    assert_int_equal (s_run_ctl (6, argv, out, sizeof out), 0);
    s_expect_hello (env, "ctl-test");
    s_check_summary (out, 3, s_expect_records (env, "ctl-test", 3, true), 2);
    zetl_msg_t *bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);

    //  Without --name: one derived from the host and the files, the same each time
    char *plain[] = {"produce", "--coordinator", env->args.endpoint, path, NULL};
    assert_int_equal (s_run_ctl (4, plain, out, sizeof out), 0);
    zetl_msg_t *hello = s_expect (env, ZETL_MSG_HELLO);
    assert_memory_equal (hello->name, "produce-", 8);
    char *name = strdup (hello->name);
    zetl_msg_destroy (&hello);
    s_expect_records (env, name, 3, true);
    bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);
    assert_int_equal (s_run_ctl (4, plain, out, sizeof out), 0);
    hello = s_expect (env, ZETL_MSG_HELLO);
    assert_string_equal (hello->name, name);
    zetl_msg_destroy (&hello);
    s_expect_records (env, name, 3, true);
    free (name);
    bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);

    //  stdin: a quiet pipe still lets a partial batch leave after its linger
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    int saved_stdin = dup (STDIN_FILENO);
    dup2 (fds[0], STDIN_FILENO);
    close (fds[0]);
    slow_writer_t slow = {fds[1], &env->args.taken};
    zactor_t *writer = zactor_new (s_slow_writer, &slow);
    char *from_stdin[] = {
        "produce", "--coordinator", env->args.endpoint, "--name", "ctl-stdin", "-", NULL};
    assert_int_equal (s_run_ctl (6, from_stdin, out, sizeof out), 0);
    zactor_destroy (&writer);
    dup2 (saved_stdin, STDIN_FILENO);
    close (saved_stdin);
    assert_string_equal (out, "{\"records\":2,\"batches\":2,\"resent\":0,\"rejected\":0}\n");
    s_expect_hello (env, "ctl-stdin");
    assert_int_equal (s_expect_records (env, "ctl-stdin", 2, true), 2);
    bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);

    //  A file that does not open: the rest is sent, and the exit code says so
    char *missing[] = {"produce", "--coordinator", env->args.endpoint,
                       "--name",  "ctl-test",      "/nonexistent/in.jsonl",
                       NULL};
    assert_int_equal (s_run_ctl (6, missing, out, sizeof out), 1);
    assert_string_equal (out, "{\"records\":0,\"batches\":0,\"resent\":0,\"rejected\":0}\n");
    char *usage[] = {"produce", "--coordinator", env->args.endpoint, NULL};
    assert_int_equal (s_run_ctl (3, usage, out, sizeof out), 2);
    unlink (path);
}

static void
test_example (void **state)
{
    env_t *env = (env_t *) *state;
    char *argv[] = {"producer_example", env->args.endpoint, "events", NULL};
    assert_int_equal (producer_example_main (3, argv), 0);
    s_expect_hello (env, "example-producer");
    s_expect_records (env, "example-producer", 2, false);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_ctl_produce, s_setup_one, s_teardown),
        cmocka_unit_test_setup_teardown (test_example, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
