/*
 * bench_merkle.c — `ctng bench merkle`: Merkle tree integration and proof
 * speed (issue 4). Lines:
 *   sha256.1k                  SHA-256 of 1 KiB inputs (this machine's baseline)
 *   merkle.integrate.memory    1 KiB leaves into the in-memory tree, with the
 *                              ratio to sha256.1k measured in the same run
 *   merkle.integrate.sqlite    leaf hashes into SQLite tiles, one durable
 *                              (WAL, synchronous=FULL) commit per batch
 *   merkle.proof.inclusion     from tiles, random index, at 1M and 10M entries
 *   merkle.proof.consistency   from tiles, random size1, at 1M and 10M entries
 * Databases live in a fresh temporary folder that is removed afterwards.
 * CTNG_BENCH_MERKLE_MAX (entries) caps the proof trees, e.g. 1000000.
 */
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ctng/base.h"
#include "ctng/merkle.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill_random(void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = next_rand();
		memcpy(b + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* Process CPU time in ns: reported next to wall time because the benchmark
 * machine may be shared (wall time then includes waiting for a core). */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------ SHA-256 and in-memory */

#define LEAF_SIZE 1024

/* One timed pass of each; returns wall and CPU nanoseconds. */
typedef struct pass_time {
	uint64_t wall, cpu;
} pass_time;

static int sha_pass(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t *leaf, uint64_t n, pass_time *pt)
{
	uint8_t out[32];
	uint64_t t0 = ctng_mono_ns(), c0 = cpu_ns();
	for (uint64_t i = 0; i < n; i++) {
		memcpy(leaf, &i, sizeof(i));
		if (!EVP_DigestInit_ex2(ctx, md, NULL) || !EVP_DigestUpdate(ctx, leaf, LEAF_SIZE) ||
		    !EVP_DigestFinal_ex(ctx, out, NULL))
			return 1;
	}
	pt->wall = ctng_mono_ns() - t0;
	pt->cpu = cpu_ns() - c0;
	return 0;
}

static int tree_pass(uint8_t *leaf, uint64_t n, pass_time *pt)
{
	ctng_merkle_mem *m;
	ctng_err err = {0};
	if (ctng_merkle_mem_new(&m))
		return 1;
	uint64_t t0 = ctng_mono_ns(), c0 = cpu_ns();
	for (uint64_t i = 0; i < n; i++) {
		memcpy(leaf, &i, sizeof(i));
		if (ctng_merkle_mem_append_data(m, leaf, LEAF_SIZE, NULL, &err)) {
			ctng_merkle_mem_free(m);
			return 1;
		}
	}
	uint8_t root[32];
	int rc = ctng_merkle_mem_root(m, n, root, &err);
	pt->wall = ctng_mono_ns() - t0;
	pt->cpu = cpu_ns() - c0;
	ctng_merkle_mem_free(m);
	return rc ? 1 : 0;
}

static void keep_best(pass_time *best, const pass_time *p)
{
	if (best->wall == 0 || p->wall < best->wall)
		best->wall = p->wall;
	if (best->cpu == 0 || p->cpu < best->cpu)
		best->cpu = p->cpu;
}

/* sha256.1k and merkle.integrate.memory, measured alternately in 3 rounds;
 * each keeps its best round, so both see the same machine conditions. */
static int bench_memory(void)
{
	const uint64_t n = 1u << 17;
	const int rounds = 3;
	static uint8_t leaf[LEAF_SIZE];
	fill_random(leaf, sizeof(leaf));
	/* Baseline: the fastest non-deprecated way to hash many 1 KiB inputs with
	 * OpenSSL 3 (fetched EVP_MD, one reused EVP_MD_CTX). */
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int status = 1;
	pass_time sha = {0, 0}, tree = {0, 0}, p;
	if (!md || !ctx) {
		fprintf(stderr, "bench merkle: OpenSSL SHA-256 unavailable\n");
		goto out;
	}
	for (int r = 0; r < rounds; r++) {
		if (sha_pass(ctx, md, leaf, n, &p)) {
			fprintf(stderr, "bench merkle: SHA-256 failed\n");
			goto out;
		}
		keep_best(&sha, &p);
		if (tree_pass(leaf, n, &p)) {
			fprintf(stderr, "bench merkle: in-memory integration failed\n");
			goto out;
		}
		keep_best(&tree, &p);
	}
	double sha_rate = (double)n * 1e9 / (double)sha.wall;
	double rate = (double)n * 1e9 / (double)tree.wall;
	char extra[200];
	snprintf(extra, sizeof(extra), ",\"n\":%llu,\"size\":%d,\"rounds\":%d",
	         (unsigned long long)n, LEAF_SIZE, rounds);
	ctng_bench_line_rate("sha256.1k", sha_rate, extra);
	snprintf(extra, sizeof(extra),
	         ",\"n\":%llu,\"size\":%d,\"rounds\":%d,\"ratio_to_sha256\":%.3f,"
	         "\"cpu_ratio_to_sha256\":%.3f",
	         (unsigned long long)n, LEAF_SIZE, rounds, rate / sha_rate,
	         (double)sha.cpu / (double)tree.cpu);
	ctng_bench_line_rate("merkle.integrate.memory", rate, extra);
	status = 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return status;
}

/* ------------------------------------------------------------- SQLite */

typedef struct tmpdb {
	char dir[64];
	char path[128];
	sqlite3 *db;
} tmpdb;

static int tmpdb_open(tmpdb *t, const char *sync, const char *more)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/ctng-bench-merkle-XXXXXX");
	if (!mkdtemp(t->dir)) {
		perror("bench merkle: mkdtemp");
		return 1;
	}
	snprintf(t->path, sizeof(t->path), "%s/tree.db", t->dir);
	char sql[256];
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; %s", sync,
	         more ? more : "");
	if (sqlite3_open(t->path, &t->db) != SQLITE_OK ||
	    sqlite3_exec(t->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench merkle: sqlite: %s\n", sqlite3_errmsg(t->db));
		return 1;
	}
	return 0;
}

static void tmpdb_remove(tmpdb *t)
{
	if (t->db)
		sqlite3_close(t->db);
	t->db = NULL;
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		char p[160];
		snprintf(p, sizeof(p), "%s%s", t->path, suffixes[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

static int bench_sqlite_integrate(void)
{
	const size_t batch = 1000;
	const uint64_t n = 250000;
	uint8_t(*hashes)[32] = malloc(batch * 32);
	if (!hashes)
		return 1;
	tmpdb t;
	int status = 1;
	ctng_merkle_tiles *tiles = NULL;
	ctng_err err = {0};
	if (tmpdb_open(&t, "FULL", NULL))
		goto out;
	if (ctng_merkle_tiles_open(t.db, &tiles, &err))
		goto fail;
	uint64_t elapsed = 0;
	for (uint64_t done = 0; done < n; done += batch) {
		fill_random(hashes, batch * 32); /* leaf hashes arrive precomputed */
		uint64_t t0 = ctng_mono_ns();
		if (ctng_merkle_tiles_append(tiles, (const uint8_t(*)[32])hashes, batch, &err))
			goto fail;
		elapsed += ctng_mono_ns() - t0;
	}
	char extra[160];
	snprintf(extra, sizeof(extra), ",\"n\":%llu,\"batch\":%zu,\"synchronous\":\"FULL\"",
	         (unsigned long long)n, batch);
	ctng_bench_line_rate("merkle.integrate.sqlite", (double)n * 1e9 / (double)elapsed, extra);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "bench merkle: %s\n", err.msg);
out:
	ctng_merkle_tiles_close(tiles);
	tmpdb_remove(&t);
	free(hashes);
	return status;
}

/* Proof benchmarks let SQLite map the database (as the logger should). */
#define MMAP_SIZE "4294967296"

static int bench_proofs(uint64_t n)
{
	const size_t batch = 1 << 16;
	uint8_t(*hashes)[32] = malloc(batch * 32);
	if (!hashes)
		return 1;
	tmpdb t;
	int status = 1;
	ctng_merkle_tiles *tiles = NULL;
	ctng_err err = {0};
	if (tmpdb_open(&t, "OFF", "PRAGMA mmap_size=" MMAP_SIZE ";"))
		goto out;
	if (ctng_merkle_tiles_open(t.db, &tiles, &err))
		goto fail;
	uint64_t b0 = ctng_mono_ns();
	for (uint64_t done = 0; done < n;) {
		size_t k = n - done < batch ? (size_t)(n - done) : batch;
		fill_random(hashes, k * 32);
		if (ctng_merkle_tiles_append(tiles, (const uint8_t(*)[32])hashes, k, &err))
			goto fail;
		done += k;
	}
	double build_s = (double)(ctng_mono_ns() - b0) / 1e9;
	/* Reopen: proofs start from a cold tile cache. */
	ctng_merkle_tiles_close(tiles);
	tiles = NULL;
	if (ctng_merkle_tiles_open(t.db, &tiles, &err))
		goto fail;
	uint8_t root[32];
	if (ctng_merkle_tiles_root(tiles, n, root, &err))
		goto fail;
	const uint64_t ops = 200000;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t len;
	uint64_t t0 = ctng_mono_ns(), c0 = cpu_ns();
	for (uint64_t i = 0; i < ops; i++) {
		uint64_t idx = next_rand() % n;
		if (ctng_merkle_tiles_inclusion(tiles, idx, n, proof, &len, &err))
			goto fail;
	}
	uint64_t t1 = ctng_mono_ns(), c1 = cpu_ns();
	/* Sanity (untimed): a proof from the benchmark tree verifies. */
	uint64_t idx = next_rand() % n;
	uint8_t leaf[32];
	if (ctng_merkle_tiles_inclusion(tiles, idx, n, proof, &len, &err) ||
	    ctng_merkle_tiles_leaf(tiles, idx, leaf, &err) ||
	    ctng_merkle_verify_inclusion(leaf, idx, n, root, (const uint8_t(*)[32])proof, len,
	                                 &err))
		goto fail;
	char extra[200];
	snprintf(extra, sizeof(extra),
	         ",\"n\":%llu,\"size\":\"latest\",\"cpu_ns_per_op\":%.1f,\"build_s\":%.1f,"
	         "\"mmap_size\":" MMAP_SIZE,
	         (unsigned long long)n, (double)(c1 - c0) / (double)ops, build_s);
	ctng_bench_line_ns("merkle.proof.inclusion", (double)(t1 - t0) / (double)ops, ops, extra);

	t0 = ctng_mono_ns();
	c0 = cpu_ns();
	for (uint64_t i = 0; i < ops; i++) {
		uint64_t s1 = 1 + next_rand() % (n - 1);
		if (ctng_merkle_tiles_consistency(tiles, s1, n, proof, &len, &err))
			goto fail;
	}
	t1 = ctng_mono_ns();
	c1 = cpu_ns();
	uint64_t s1 = 1 + next_rand() % (n - 1);
	uint8_t root1[32];
	if (ctng_merkle_tiles_consistency(tiles, s1, n, proof, &len, &err) ||
	    ctng_merkle_tiles_root(tiles, s1, root1, &err) ||
	    ctng_merkle_verify_consistency(s1, n, root1, root, (const uint8_t(*)[32])proof, len,
	                                   &err))
		goto fail;
	snprintf(extra, sizeof(extra),
	         ",\"n\":%llu,\"size2\":\"latest\",\"cpu_ns_per_op\":%.1f,\"mmap_size\":" MMAP_SIZE,
	         (unsigned long long)n, (double)(c1 - c0) / (double)ops);
	ctng_bench_line_ns("merkle.proof.consistency", (double)(t1 - t0) / (double)ops, ops, extra);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "bench merkle: %s\n", err.msg);
out:
	ctng_merkle_tiles_close(tiles);
	tmpdb_remove(&t);
	free(hashes);
	return status;
}

int ctng_bench_merkle(void)
{
	int status = 0;
	if (bench_memory())
		status = 1;
	if (bench_sqlite_integrate())
		status = 1;
	uint64_t max = 10000000;
	const char *cap = getenv("CTNG_BENCH_MERKLE_MAX");
	if (cap && ctng_parse_u64(cap, UINT64_MAX, &max, NULL) != 0) {
		fprintf(stderr, "bench merkle: bad CTNG_BENCH_MERKLE_MAX\n");
		return 1;
	}
	static const uint64_t sizes[] = {1000000, 10000000};
	for (size_t i = 0; i < 2; i++)
		if (sizes[i] <= max && bench_proofs(sizes[i]))
			status = 1;
	return status;
}
