/*
 * testutil.h — helpers the test programs share: sleeping, loopback ports,
 * starting and stopping `ctng` daemons and other processes, running a
 * command with its output captured, removing a temporary folder.
 *
 * Every tests/util/ .c file is compiled into every test program (unit and
 * integration), so these helpers use only libc, POSIX and cmocka — never the
 * ctng library. Helpers that say so fail the running cmocka test (fail_msg)
 * when the test machinery itself breaks (fork, mkstemp, pipe); everything
 * else is reported through the return value for the test to assert on.
 */
#ifndef CTNG_TESTUTIL_H
#define CTNG_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sleeps ms milliseconds (restarting after a signal is not needed by tests). */
void ctng_test_sleep_ms(long ms);

/* True if 127.0.0.1:port can be bound (TCP) right now. */
bool ctng_test_port_free(uint16_t port);

/* A port base in 22000..26999 (so every port stays below the kernel's
 * ephemeral range) such that base + offsets[i] (i < n, each
 * offset at most 5000) can all be bound right now; tries are spread by the
 * process id, since tests run in parallel. If no base is found after 100
 * tries, returns the last one tried (the test then fails when it binds). */
uint16_t ctng_test_free_port_base(const uint16_t *offsets, size_t n);

/* The port offsets of a network made by `ctng init` with --port-base B
 * (loggers B+0.., CAs B+100.., monitors B+200.., gossipers B+300..), up to
 * the seed's sizes: pass them to ctng_test_free_port_base. */
extern const uint16_t ctng_test_net_ports[];
#define CTNG_TEST_NET_PORTS 14

/* One loopback port that can be bound right now (ctng_test_free_port_base
 * with the single offset 0). */
uint16_t ctng_test_free_port(void);

/* Waits until 127.0.0.1:port accepts a TCP connection, polling every 50 ms
 * for up to timeout_ms. If pid > 0 and that child exits meanwhile (it is
 * reaped), gives up at once. Returns 0 when the port accepts, -1 on timeout,
 * -2 if the child exited. */
int ctng_test_wait_port(uint16_t port, pid_t pid, long timeout_ms);

/* Starts the node ID of a network folder written by `ctng init` /
 * ctng_init_network: `CTNG_BIN ROLE --config DIR/ID/config.json
 * [--log-level LEVEL]` (no level flag when log_level is NULL), where ROLE is
 * ID without its trailing digits ("logger1" -> "logger"), with stdout and
 * stderr appended to DIR/ID.log. Returns the child's pid at once (see
 * ctng_test_wait_port); fails the test if fork fails. */
pid_t ctng_test_spawn_node(const char *dir, const char *id, const char *log_level);

/* ctng_test_spawn_node with a few more settings for the child. */
typedef struct ctng_test_spawn_opts {
	long nofile;            /* > 0: the child's RLIMIT_NOFILE (soft and hard) */
	const char *const *env; /* NULL or NULL-terminated "NAME=VALUE" added to
	                           the child's environment */
} ctng_test_spawn_opts;
pid_t ctng_test_spawn_node_opts(const char *dir, const char *id, const char *log_level,
                                const ctng_test_spawn_opts *opts);

/* Connects a blocking TCP socket to 127.0.0.1:port with a receive timeout
 * of timeout_ms. Returns the descriptor, or -1. */
int ctng_test_connect(uint16_t port, long timeout_ms);

/* Reads from fd until the peer closes it, an error, or no byte arrives for
 * the socket's receive timeout. Returns the bytes read (malloc'd,
 * NUL-terminated; *len if not NULL gets their number). */
char *ctng_test_recv_all(int fd, size_t *len);

/* One raw HTTP exchange: connects to 127.0.0.1:port, sends len bytes of
 * req (stopping early if the server closes), half-closes the socket if
 * shut_wr, reads everything until the server closes (each read waits at
 * most timeout_ms) and closes. Returns the response bytes as
 * ctng_test_recv_all does ("" if the connection failed). */
char *ctng_test_raw_http(uint16_t port, const void *req, size_t len, bool shut_wr, long timeout_ms);

/* Writes a then b (may be NULL) to path (created or truncated); fails the
 * test if it cannot. */
void ctng_test_write_file(const char *path, const char *a, const char *b);

/* A number from /proc/PID/status, e.g. field "VmHWM" or "VmRSS" (kB);
 * -1 if unreadable. */
long ctng_test_proc_status(pid_t pid, const char *field);
/* Number of open descriptors of pid (entries of /proc/PID/fd); -1 if
 * unreadable. */
long ctng_test_proc_fds(pid_t pid);
/* CPU time pid has used (user + system, ms, from /proc/PID/stat); -1 if
 * unreadable. */
long ctng_test_proc_cpu_ms(pid_t pid);

/* Sends SIGTERM to pid and waits up to timeout_ms (polling every 50 ms) for
 * it to exit; after that, SIGKILLs and reaps it. Returns its exit status
 * (0-255), 256 + the signal if a signal ended it, or -1 if pid <= 0 or it had to be
 * killed. */
int ctng_test_stop(pid_t pid, long timeout_ms);

/* Starts `openssl s_server -cert CERT -key KEY -accept PORT -www -quiet`
 * (stdin, stdout and stderr on /dev/null) and waits up to 10 s until PORT
 * accepts connections. Returns its pid (stop it with ctng_test_stop); fails
 * the test if it exits or does not listen in time. */
pid_t ctng_test_start_s_server(const char *cert, const char *key, uint16_t port);

/* Runs argv (argv[0] is the program's path; NULL-terminated) and waits for
 * it, at most timeout_ms if that is > 0 (then it is SIGKILLed and -1 is
 * returned). Its stdout goes into out (at most out_cap - 1 bytes,
 * NUL-terminated); *out_len (if not NULL) receives the full number of bytes
 * it wrote, which may exceed out_cap - 1. Its stderr goes likewise into
 * err, or to /dev/null when err is NULL. Returns the exit status (0-255), or
 * 256 + the signal if a signal ended it. Fails the test if the plumbing
 * (mkstemp, fork) fails; an exec failure shows as exit status 127. */
int ctng_test_run(const char *const *argv, char *out, size_t out_cap, size_t *out_len, char *err,
                  size_t err_cap, long timeout_ms);

/* Checks `text` (Prometheus exposition) with Prometheus's own parser and
 * linter, `promtool check metrics`. Returns its exit status (0: accepted);
 * its complaints go into msg (NUL-terminated, at most msg_cap - 1 bytes). */
int ctng_test_promtool(const char *text, char *msg, size_t msg_cap);

/* `rm -rf DIR` (unless the environment sets CTNG_KEEP_TEST_DIR). DIR must be
 * a folder below /tmp ("/tmp/x..."), without "..", without quotes; anything
 * else is refused. Returns 0, or -1 if refused or the removal failed. */
int ctng_test_rm_rf(const char *dir);

#endif
