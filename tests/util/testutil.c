/*
 * testutil.c — the helpers of testutil.h, shared by every test program:
 * loopback ports, daemons, captured commands, temporary folders.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

void ctng_test_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

bool ctng_test_port_free(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = loopback(port);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

const uint16_t ctng_test_net_ports[CTNG_TEST_NET_PORTS] = {0,   1,   2,   100, 101, 102, 200,
                                                           201, 202, 203, 300, 301, 302, 303};

uint16_t ctng_test_free_port_base(const uint16_t *offsets, size_t n)
{
	/* Below the kernel's ephemeral range (32768+): a port there can be taken
	 * at any moment as the local end of some outgoing connection. */
	uint16_t base = (uint16_t)(22000 + getpid() % 5000);
	for (int tries = 0; tries < 100;
	     tries++, base = (uint16_t)(22000 + (base - 22000 + 37) % 5000)) {
		bool ok = true;
		for (size_t k = 0; k < n && ok; k++)
			ok = ctng_test_port_free((uint16_t)(base + offsets[k]));
		if (ok)
			return base;
	}
	return base;
}

uint16_t ctng_test_free_port(void)
{
	static const uint16_t zero[] = {0};
	return ctng_test_free_port_base(zero, 1);
}

int ctng_test_wait_port(uint16_t port, pid_t pid, long timeout_ms)
{
	for (long waited = 0;; waited += 50) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = loopback(port);
		bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		int st;
		if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid)
			return -2;
		if (waited >= timeout_ms)
			return -1;
		ctng_test_sleep_ms(50);
	}
}

pid_t ctng_test_spawn_node_opts(const char *dir, const char *id, const char *log_level,
                                const ctng_test_spawn_opts *opts)
{
	char cfg[1024], log[1024], role[64];
	snprintf(cfg, sizeof(cfg), "%s/%s/config.json", dir, id);
	snprintf(log, sizeof(log), "%s/%s.log", dir, id);
	snprintf(role, sizeof(role), "%s", id);
	role[strcspn(role, "0123456789")] = 0;
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (opts && opts->nofile > 0) {
			struct rlimit rl = {.rlim_cur = (rlim_t)opts->nofile,
			                    .rlim_max = (rlim_t)opts->nofile};
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				_exit(126);
		}
		if (opts && opts->env)
			for (size_t i = 0; opts->env[i]; i++)
				putenv((char *)opts->env[i]);
		if (log_level)
			execl(CTNG_BIN, CTNG_BIN, role, "--config", cfg, "--log-level", log_level,
			      (char *)NULL);
		else
			execl(CTNG_BIN, CTNG_BIN, role, "--config", cfg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

pid_t ctng_test_spawn_node(const char *dir, const char *id, const char *log_level)
{
	return ctng_test_spawn_node_opts(dir, id, log_level, NULL);
}

int ctng_test_connect(uint16_t port, long timeout_ms)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct sockaddr_in a = loopback(port);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

char *ctng_test_recv_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		fail_msg("out of memory");
	for (;;) {
		if (n + 1024 > cap && !(buf = realloc(buf, cap *= 2)))
			fail_msg("out of memory");
		ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

char *ctng_test_raw_http(uint16_t port, const void *req, size_t len, bool shut_wr, long timeout_ms)
{
	int fd = ctng_test_connect(port, timeout_ms);
	if (fd < 0)
		return strdup("");
	const char *p = req;
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(fd, p + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server may answer and close early */
		off += (size_t)w;
	}
	if (shut_wr)
		shutdown(fd, SHUT_WR);
	char *out = ctng_test_recv_all(fd, NULL);
	close(fd);
	return out;
}

void ctng_test_write_file(const char *path, const char *a, const char *b)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fputs(a, f);
	if (b)
		fputs(b, f);
	fclose(f);
}

long ctng_test_proc_status(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	size_t fl = strlen(field);
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, field, fl) && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long ctng_test_proc_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

long ctng_test_proc_cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return -1;
	unsigned long ut = 0, st = 0;
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
	 * stime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	return (long)((ut + st) * 1000 / (unsigned long)(hz > 0 ? hz : 100));
}

pid_t ctng_test_start_s_server(const char *cert, const char *key, uint16_t port)
{
	char ports[16];
	snprintf(ports, sizeof(ports), "%u", port);
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int dn = open("/dev/null", O_RDWR);
		dup2(dn, 0);
		dup2(dn, 1);
		dup2(dn, 2);
		execlp("openssl", "openssl", "s_server", "-cert", cert, "-key", key, "-accept",
		       ports, "-www", "-quiet", (char *)NULL);
		_exit(127);
	}
	int rc = ctng_test_wait_port(port, pid, 10000);
	if (rc == -2)
		fail_msg("openssl s_server exited");
	if (rc != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("openssl s_server did not start");
	}
	return pid;
}

static int status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
}

int ctng_test_stop(pid_t pid, long timeout_ms)
{
	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	int st = 0;
	for (long waited = 0; waited < timeout_ms; waited += 50) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return status_of(st);
		ctng_test_sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Reads the whole of fd (a temporary file) from the start into buf (at most
 * cap - 1 bytes, NUL-terminated); returns the file's full size. */
static size_t slurp(int fd, char *buf, size_t cap)
{
	struct stat sb;
	size_t size = fstat(fd, &sb) == 0 ? (size_t)sb.st_size : 0, len = 0;
	lseek(fd, 0, SEEK_SET);
	while (len + 1 < cap) {
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	return size;
}

int ctng_test_run(const char *const *argv, char *out, size_t out_cap, size_t *out_len, char *err,
                  size_t err_cap, long timeout_ms)
{
	char of[] = "/tmp/ctng-run-outXXXXXX", ef[] = "/tmp/ctng-run-errXXXXXX";
	int ofd = mkstemp(of), efd = err ? mkstemp(ef) : open("/dev/null", O_WRONLY);
	if (ofd < 0 || efd < 0)
		fail_msg("ctng_test_run: cannot create output files: %s", strerror(errno));
	unlink(of);
	if (err)
		unlink(ef);
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	bool timed_out = false;
	if (timeout_ms > 0) {
		for (long waited = 0; waitpid(pid, &st, WNOHANG) != pid; waited += 50) {
			if (waited >= timeout_ms) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				timed_out = true;
				break;
			}
			ctng_test_sleep_ms(50);
		}
	} else {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	size_t n = slurp(ofd, out, out_cap);
	if (out_len)
		*out_len = n;
	if (err)
		slurp(efd, err, err_cap);
	close(ofd);
	close(efd);
	return timed_out ? -1 : status_of(st);
}

int ctng_test_rm_rf(const char *dir)
{
	if (getenv("CTNG_KEEP_TEST_DIR"))
		return 0;
	/* A test only ever removes a folder it made under /tmp: refuse /tmp
	 * itself, anything outside it, parent references and quotes, so a bug in
	 * a test's bookkeeping cannot wipe more than its own folder. */
	if (strncmp(dir, "/tmp/", 5) != 0 || dir[5] == 0 || dir[5] == '/' || strstr(dir, "..") ||
	    strchr(dir, '\''))
		return -1;
	char cmd[1100];
	if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >= (int)sizeof(cmd))
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

int ctng_test_promtool(const char *text, char *msg, size_t msg_cap)
{
	char path[] = "/tmp/ctng-promtool-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		fail_msg("mkstemp: %s", strerror(errno));
	size_t n = strlen(text);
	if (write(fd, text, n) != (ssize_t)n)
		fail_msg("write %s: %s", path, strerror(errno));
	close(fd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	int st = ctng_test_run(argv, msg, msg_cap, NULL, NULL, 0, 30000);
	unlink(path);
	return st;
}
