/* bench_merkle.c — `ctng bench merkle`. Placeholder until its issue lands. */
#include <stdio.h>
#include "bench.h"

int ctng_bench_merkle(void)
{
	fprintf(stderr, "ctng bench: merkle benchmarks not built yet\n");
	return 1;
}
