/* bench_network.c — `ctng bench network`. Placeholder until its issue lands. */
#include <stdio.h>
#include "bench.h"

int ctng_bench_network(void)
{
	fprintf(stderr, "ctng bench: network benchmarks not built yet\n");
	return 1;
}
