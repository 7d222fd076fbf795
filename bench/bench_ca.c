/* bench_ca.c — `ctng bench ca`. Placeholder until its issue lands. */
#include <stdio.h>
#include "bench.h"

int ctng_bench_ca(void)
{
	fprintf(stderr, "ctng bench: ca benchmarks not built yet\n");
	return 1;
}
