/*
 * test_store_metrics.c — ctng_store_metrics: outermost commits are counted
 * and timed (savepoint releases are not), and the rendered text carries the
 * size of the database and WAL files as the file system reports them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/metrics.h"
#include "ctng/store.h"
#include "testutil.h"

static void test_commits_and_size(void **state)
{
	(void)state;
	char dir[] = "/tmp/ctng-store-metrics-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/node.db", dir);
	ctng_err err = {0};
	ctng_store *s = ctng_store_open(path, &err);
	assert_non_null(s);
	ctng_metrics *reg = ctng_metrics_new(&err);
	assert_int_equal(ctng_store_metrics(s, reg, &err), 0);
	assert_int_equal(ctng_store_metrics(NULL, reg, &err), CTNG_EINVAL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ctng_store_begin(s, &err), 0);
		assert_int_equal(ctng_store_begin(s, &err), 0); /* a savepoint */
		char key[8];
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(ctng_store_kv_put_u64(s, "t", key, (uint64_t)i, &err), 0);
		assert_int_equal(ctng_store_commit(s, &err), 0);
		assert_int_equal(ctng_store_commit(s, &err), 0);
	}
	ctng_buf b = {0};
	assert_int_equal(ctng_metrics_render(reg, &b, &err), 0);
	ctng_buf_append_u8(&b, 0);
	const char *t = (const char *)b.data;
	assert_non_null(strstr(t, "ctng_db_commits_total{db=\"node.db\",result=\"ok\"} 3\n"));
	assert_non_null(strstr(t, "ctng_db_commit_duration_seconds_count{db=\"node.db\"} 3\n"));
	struct stat sb;
	char want[256];
	assert_int_equal(stat(path, &sb), 0);
	snprintf(want, sizeof want, "ctng_db_size_bytes{db=\"node.db\",file=\"main\"} %lld\n",
	         (long long)sb.st_size);
	assert_non_null(strstr(t, want));
	snprintf(want, sizeof want, "%s-wal", path);
	assert_int_equal(stat(want, &sb), 0);
	assert_true(sb.st_size > 0);
	snprintf(want, sizeof want, "ctng_db_size_bytes{db=\"node.db\",file=\"wal\"} %lld\n",
	         (long long)sb.st_size);
	assert_non_null(strstr(t, want));
	ctng_buf_free(&b);
	/* The size hook keeps its own path: rendering after close is safe. */
	ctng_store_close(s);
	assert_int_equal(ctng_metrics_render(reg, &b, &err), 0);
	ctng_buf_free(&b);
	ctng_metrics_free(reg);
	assert_int_equal(ctng_test_rm_rf(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commits_and_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
