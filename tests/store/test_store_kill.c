/*
 * test_store_kill.c — THE KILL TEST of DESIGN §8 ("a node killed at any
 * moment restarts with nothing lost"). A forked child writes to the store in
 * a loop, one committed transaction per sequence number (three objects and a
 * kv entry each), and reports each committed number to the parent through a
 * pipe. The parent SIGKILLs it after a random number of reports, reopens the
 * database and checks: integrity_check is ok, every reported number is
 * present, and no transaction is half there. Repeated several rounds on the
 * same database, each child continuing where the last one stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/store.h"

#define ROUNDS      6
#define OBJS_PER_TX 3

static char tmpdir[256];
static char dbpath[300];

static void make_obj(uint64_t seq, int k, ctng_store_obj *o, char *json, size_t cap)
{
	snprintf(json, cap, "{\"seq\":%" PRIu64 ",\"k\":%d,\"pad\":\"%0200d\"}", seq, k, 0);
	memset(o, 0, sizeof *o);
	o->family = "STH";
	o->entity = "logger1";
	o->period = seq;
	o->type_uri = k == 0 ? "http://ctng.uconn.edu/101" : "http://ctng.uconn.edu/201";
	o->signer = k == 0 ? "logger1" : (k == 1 ? "monitor1" : "monitor2");
	o->json = json;
	o->json_len = strlen(json);
	for (int i = 0; i < 8; i++)
		o->hash[i] = (uint8_t)(seq >> (56 - 8 * i));
	o->hash[8] = (uint8_t)k;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Child: writes forever from `start`, reporting each commit. Never returns. */
static void child_writer(int fd, uint64_t start)
{
	ctng_err err = {0};
	ctng_store *s = ctng_store_open(dbpath, &err);
	if (!s)
		_exit(10);
	char json[512];
	for (uint64_t seq = start;; seq++) {
		if (ctng_store_begin(s, &err))
			_exit(11);
		for (int k = 0; k < OBJS_PER_TX; k++) {
			ctng_store_obj o;
			make_obj(seq, k, &o, json, sizeof json);
			bool ins;
			if (ctng_store_obj_put(s, &o, &ins, &err) || !ins)
				_exit(12);
		}
		if (ctng_store_kv_put_u64(s, "kill", "last", seq, &err))
			_exit(13);
		if (ctng_store_commit(s, &err))
			_exit(14);
		if (write_all(fd, &seq, sizeof seq))
			_exit(15);
	}
}

static void check_db(uint64_t max_reported, bool any_reported, uint64_t *next)
{
	ctng_err err = {0};
	ctng_store *s = ctng_store_open(dbpath, &err);
	if (!s)
		fail_msg("reopen after kill: %s", err.msg);
	if (ctng_store_integrity_check(s, &err))
		fail_msg("%s", err.msg);

	uint64_t last = 0;
	int rc = ctng_store_kv_get_u64(s, "kill", "last", &last, &err);
	if (any_reported) {
		assert_int_equal(rc, 0);
		/* The child may have committed one more than it managed to report. */
		assert_true(last >= max_reported);
		assert_true(last <= max_reported + 1);
	}
	uint64_t have = rc == 0 ? last + 1 : 0;

	/* Every committed sequence number has all its objects; nothing beyond. */
	uint64_t n;
	assert_int_equal(ctng_store_obj_count(s, NULL, &n, &err), 0);
	assert_int_equal(n, have * OBJS_PER_TX);
	for (uint64_t seq = 0; seq < have; seq++) {
		ctng_store_objs l;
		assert_int_equal(ctng_store_obj_find_id(s, "STH", "logger1", seq, &l, &err), 0);
		if (l.n != OBJS_PER_TX)
			fail_msg("sequence %" PRIu64 " has %zu objects", seq, l.n);
		char json[512];
		ctng_store_obj want;
		make_obj(seq, 0, &want, json, sizeof json);
		assert_string_equal(l.v[0].json, json);
		ctng_store_objs_free(&l);
	}
	ctng_store_close(s);
	*next = have;
}

static void test_kill_during_writes(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ctng-kill-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof dbpath, "%s/node.db", tmpdir);

	uint64_t next = 0;
	uint32_t seed = 0;
	assert_int_equal(ctng_random(&seed, sizeof seed), 0);
	srand(seed);
	print_message("kill test seed %u\n", seed);

	for (int round = 0; round < ROUNDS; round++) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child_writer(fds[1], next);
		}
		close(fds[1]);
		/* Kill after a random number of reported commits (some rounds early). */
		int target = 1 + rand() % 120;
		int got = 0;
		uint64_t max = 0;
		bool any = false;
		uint64_t v;
		while (got < target) {
			ssize_t r = read(fds[0], &v, sizeof v);
			if (r < 0 && errno == EINTR)
				continue;
			if (r != (ssize_t)sizeof v)
				fail_msg("child stopped early (read %zd)", r);
			assert_int_equal(v, next + (uint64_t)got);
			max = v;
			any = true;
			got++;
		}
		assert_int_equal(kill(pid, SIGKILL), 0);
		/* Reports written before death still count as committed. */
		for (;;) {
			ssize_t r = read(fds[0], &v, sizeof v);
			if (r < 0 && errno == EINTR)
				continue;
			if (r != (ssize_t)sizeof v)
				break;
			assert_int_equal(v, max + 1);
			max = v;
		}
		close(fds[0]);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
		check_db(max, any, &next);
		assert_true(next >= max + 1);
	}

	char p[400];
	const char *sfx[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", dbpath, sfx[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_during_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
