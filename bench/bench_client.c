/* bench_client.c — `ctng bench client`. Placeholder until its issue lands. */
#include <stdio.h>
#include "bench.h"

int ctng_bench_client(void)
{
	fprintf(stderr, "ctng bench: client benchmarks not built yet\n");
	return 1;
}
