/* bench_bls.c — `ctng bench bls`. Placeholder until its issue lands. */
#include <stdio.h>
#include "bench.h"

int ctng_bench_bls(void)
{
	fprintf(stderr, "ctng bench: bls benchmarks not built yet\n");
	return 1;
}
