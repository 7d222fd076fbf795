/* bench.c — shared timing and output helpers of `ctng bench`. */
#include <stdio.h>

#include "bench.h"
#include "ctng/base.h"

void ctng_bench_line_ns(const char *name, double ns_per_op, uint64_t ops, const char *extra)
{
	printf("{\"name\":\"%s\",\"ns_per_op\":%.1f,\"ops\":%llu%s}\n", name, ns_per_op,
	       (unsigned long long)ops, extra ? extra : "");
	fflush(stdout);
}

void ctng_bench_line_rate(const char *name, double per_second, const char *extra)
{
	printf("{\"name\":\"%s\",\"per_second\":%.1f%s}\n", name, per_second, extra ? extra : "");
	fflush(stdout);
}

double ctng_bench_time(void (*fn)(void *), void *arg, uint64_t target_ms, uint64_t min_ops,
                       uint64_t *ops_out)
{
	uint64_t ops = 0, start = ctng_mono_ns(), deadline = start + target_ms * 1000000ull;
	uint64_t now = start;
	while (ops < min_ops || now < deadline) {
		fn(arg);
		ops++;
		now = ctng_mono_ns();
	}
	if (ops_out)
		*ops_out = ops;
	return (double)(now - start) / (double)ops;
}
