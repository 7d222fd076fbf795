/*
 * test_gossiper_persist.c — persist before sign (issue 10, defect 7) with
 * real processes: two `ctng gossiper` daemons (threshold 2, so every FULL
 * needs gossiper1's partial); gossiper1's data folder is a small tmpfs that
 * the test fills up (a full disk: every write of its SQLite WAL fails with
 * ENOSPC; a read-only remount is refused while the daemon holds the database
 * open for writing) and then frees. While gossiper1 cannot write it must
 * sign nothing (no FULL forms), say so in its log (once, not a flood) and
 * in /metrics (ctng_gossiper_signing 0); when storage works again it signs
 * the pending id and the FULL forms. Needs root (mount), as CI has.
 * Waits are bounded polls; no timing is asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <roaring/roaring.h>

#include "ctng/config.h"
#include "ctng/net.h"
#include "ctng/proto.h"
#include "testutil.h"

static char top[64], dir[128], mnt[192];
static bool mounted;
static pid_t pids[2];
static ctng_network net;

static int http(uint16_t port, const char *method, const char *path, const char *body,
                char **out)
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
	int status = 0;
	uint8_t *o = NULL;
	size_t ol = 0;
	int rc = ctng_net_fetch_sync(url, method, body ? "application/json" : NULL, body,
	                             body ? strlen(body) : 0, 5000, &status, &o, &ol, NULL);
	if (out)
		*out = rc ? NULL : (char *)o;
	else
		free(o);
	return rc ? 0 : status;
}

static uint16_t port_of(int i)
{
	char id[24];
	snprintf(id, sizeof id, "gossiper%d", i + 1);
	return ctng_network_entity(&net, id)->port;
}

static long count_of(int i, uint64_t p, const char *type)
{
	char path[64], *out = NULL;
	snprintf(path, sizeof path, "/ctng/v1/counts?period=%llu", (unsigned long long)p);
	if (http(port_of(i), "GET", path, NULL, &out) != 200) {
		free(out);
		return -1;
	}
	json_t *j = json_loads(out, 0, NULL);
	free(out);
	long v = (long)json_integer_value(json_object_get(json_object_get(j, "counts"), type));
	json_decref(j);
	return v;
}

/* Polls (at most ~15 s) until both gossipers count `want` of type in p. */
static bool both(uint64_t p, const char *type, long want)
{
	for (int k = 0; k < 300; k++) {
		if (count_of(0, p, type) == want && count_of(1, p, type) == want)
			return true;
		ctng_test_sleep_ms(50);
	}
	return false;
}

static long log_lines(const char *needle)
{
	char path[256], line[4096];
	snprintf(path, sizeof path, "%s/gossiper1.log", dir);
	FILE *f = fopen(path, "r");
	long n = 0;
	while (f && fgets(line, sizeof line, f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* A REV of `ca` for period p (REVs need no data-availability word from a
 * monitor, which this test does not run). */
static char *rev_for(const char *ca, uint64_t p, uint64_t now)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s/config.json", dir, ca);
	ctng_node_config cfg = {0};
	assert_int_equal(ctng_node_config_load(path, &cfg, NULL), 0);
	roaring_bitmap_t *d = roaring_bitmap_create();
	roaring_bitmap_add(d, 3);
	uint8_t *delta = NULL, crv[32];
	size_t dl = 0;
	assert_int_equal(ctng_crv_delta_encode(d, &delta, &dl, NULL), 0);
	assert_int_equal(ctng_crv_hash(d, crv, NULL), 0);
	ctng_gossip_object o = {0};
	assert_int_equal(ctng_rev_sign(&o, ca, cfg.key, p, crv, delta, dl, now, NULL), 0);
	char *js = NULL;
	assert_int_equal(ctng_gossip_encode(&o, &js, NULL, NULL), 0);
	ctng_gossip_clear(&o);
	free(delta);
	roaring_bitmap_free(d);
	ctng_node_config_free(&cfg);
	return js;
}

static bool signing_metric(long want)
{
	for (int k = 0; k < 100; k++) {
		char *out = NULL;
		char needle[64];
		snprintf(needle, sizeof needle, "\nctng_gossiper_signing %ld", want);
		bool ok = http(port_of(0), "GET", "/metrics", NULL, &out) == 200 && out &&
		          strstr(out, needle);
		free(out);
		if (ok)
			return true;
		ctng_test_sleep_ms(50);
	}
	return false;
}

/* Fills gossiper1's tmpfs to the last byte (a full disk). */
static void fill_disk(void)
{
	char path[256];
	snprintf(path, sizeof path, "%s/filler", mnt);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	static char chunk[4096];
	while (fwrite(chunk, 1, sizeof chunk, f) == sizeof chunk && fflush(f) == 0)
		;
	while (fwrite(chunk, 1, 1, f) == 1 && fflush(f) == 0)
		;
	fclose(f);
}

static void free_disk(void)
{
	char path[256];
	snprintf(path, sizeof path, "%s/filler", mnt);
	assert_int_equal(unlink(path), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof top, "/tmp/ctng-persist-XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof dir, "%s/net", top);
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.period_ms = 4000;
	o.gossip_wait_ms = 600;
	o.loggers = 2;
	o.cas = 2;
	o.monitors = 2;
	o.threshold = 2;
	o.port_base = ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS);
	ctng_err e = {0};
	if (ctng_init_network(dir, &o, &e))
		fail_msg("init: %s", e.msg);
	char path[256];
	snprintf(path, sizeof path, "%s/network.json", dir);
	assert_int_equal(ctng_network_load(path, &net, &e), 0);
	/* gossiper1's folder becomes a tmpfs holding its config.json */
	char cfg[256], keep[256];
	snprintf(mnt, sizeof mnt, "%s/gossiper1", dir);
	snprintf(cfg, sizeof cfg, "%s/config.json", mnt);
	snprintf(keep, sizeof keep, "%s/gossiper1.config.json", top);
	assert_int_equal(rename(cfg, keep), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=8m,mode=0700") != 0)
		fail_msg("mount tmpfs on %s: %m (the test needs root)", mnt);
	mounted = true;
	uint8_t *data = NULL;
	size_t len = 0;
	assert_int_equal(ctng_read_file(keep, 1 << 20, &data, &len, NULL), 0);
	assert_int_equal(ctng_write_file_atomic(cfg, data, len, 0600, NULL), 0);
	free(data);
	for (int i = 0; i < 2; i++) {
		char id[16];
		snprintf(id, sizeof id, "gossiper%d", i + 1);
		pids[i] = ctng_test_spawn_node(dir, id, "info");
		assert_int_equal(ctng_test_wait_port(port_of(i), pids[i], 15000), 0);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++)
		ctng_test_stop(pids[i], 10000);
	if (mounted) {
		if (umount(mnt) != 0)
			umount2(mnt, MNT_DETACH);
	}
	ctng_network_free(&net);
	return ctng_test_rm_rf(top) == 0 ? 0 : -1;
}

static void test_persist_before_sign(void **state)
{
	(void)state;
	uint64_t now = ctng_now_ms(), p = 0;
	assert_true(ctng_clock_period_of(&net.clock, now, &p));
	/* both write: ca1's REV gets its FULL */
	char *a = rev_for("ca1", p, now), *b = rev_for("ca2", p, now);
	for (int i = 0; i < 2; i++)
		assert_int_equal(http(port_of(i), "POST", "/ctng/v1/gossip", a, NULL), 200);
	assert_true(both(p, "REV_FULL", 1));
	assert_true(signing_metric(1));
	/* gossiper1's disk is full: ca2's REV gets no FULL */
	fill_disk();
	for (int i = 0; i < 2; i++)
		assert_int_equal(http(port_of(i), "POST", "/ctng/v1/gossip", b, NULL), 200);
	assert_true(both(p, "REV", 2));
	ctng_test_sleep_ms(4 * 600);
	assert_int_equal(count_of(1, p, "REV_FULL"), 1);
	assert_int_equal(count_of(0, p, "REV_FULL"), 1);
	assert_int_equal(count_of(1, p, "REV_FRAG"), 3); /* 2 for ca1, gossiper2's for ca2 */
	assert_true(signing_metric(0));
	long said = log_lines("cannot persist: not signing");
	assert_true(said >= 1);
	assert_true(said <= 3); /* rate-limited, not a flood */
	/* storage works again: gossiper1 signs the pending id, the FULL forms */
	free_disk();
	assert_true(both(p, "REV_FULL", 2));
	assert_true(signing_metric(1));
	assert_int_equal(log_lines("storage works again: signing resumed"), 1);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_persist_before_sign, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
