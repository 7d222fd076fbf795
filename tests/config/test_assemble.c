/*
 * test_assemble.c — operators' own keys (ctng_keygen) and the network built
 * from their public descriptors (ctng_network_assemble): files and modes,
 * nothing secret in a descriptor, ordering and topology completion, every
 * descriptor rejection with its reason, the fingerprint (stable through the
 * key fill-in, changed by any edit), filling in BLS keys, and ctng init
 * without a dealer.
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
#include <jansson.h>

#include "ctng/bls.h"
#include "ctng/config.h"
#include "testutil.h"

static char g_dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/ctng_asm_XXXXXX");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return ctng_test_rm_rf(g_dir);
}

static char *slurp(const char *path, size_t *len)
{
	uint8_t *d = NULL;
	size_t n = 0;
	assert_int_equal(ctng_read_file(path, 1 << 24, &d, &n, NULL), 0);
	if (len)
		*len = n;
	return (char *)d;
}

/* keygen into g_dir/<sub>/ and return the descriptor text. */
static char *make(const char *sub, ctng_role role, const char *id, unsigned port,
                  const ctng_keygen_opts *extra, size_t *len)
{
	char dir[256], url[64], path[512];
	snprintf(dir, sizeof dir, "%s/%s", g_dir, sub);
	snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
	ctng_keygen_opts o = extra ? *extra : (ctng_keygen_opts){0};
	o.role = role;
	o.id = id;
	o.url = url;
	ctng_err e = {0};
	int rc = ctng_keygen(dir, &o, &e);
	if (rc)
		fprintf(stderr, "keygen: %s\n", e.msg);
	assert_int_equal(rc, 0);
	snprintf(path, sizeof path, "%s/%s.entity.json", dir, id);
	return slurp(path, len);
}

typedef struct parts {
	char *t[16];
	size_t l[16];
	size_t n;
} parts;

static void parts_free(parts *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->t[i]);
	p->n = 0;
}

/* 2 loggers, 1 CA, 2 monitors, 2 gossipers made in `sub`, in shuffled order. */
static void make_small(const char *sub, parts *p)
{
	char d[64];
	p->n = 0;
	struct {
		const char *id;
		ctng_role r;
		unsigned port;
	} es[] = {{"gossiper2", CTNG_ROLE_GOSSIPER, 13301}, {"logger2", CTNG_ROLE_LOGGER, 13001},
	          {"monitor1", CTNG_ROLE_MONITOR, 13200},   {"ca1", CTNG_ROLE_CA, 13100},
	          {"gossiper1", CTNG_ROLE_GOSSIPER, 13300}, {"logger1", CTNG_ROLE_LOGGER, 13000},
	          {"monitor2", CTNG_ROLE_MONITOR, 13201}};
	for (size_t i = 0; i < sizeof es / sizeof es[0]; i++) {
		snprintf(d, sizeof d, "%s/%s", sub, es[i].id);
		p->t[p->n] = make(d, es[i].r, es[i].id, es[i].port, NULL, &p->l[p->n]);
		p->n++;
	}
}

static int assemble(parts *p, uint32_t t, char **out, size_t *len, ctng_err *e)
{
	ctng_assemble_opts o = {.threshold = t, .period_ms = 2000, .genesis_ms = 1700000000000ULL};
	return ctng_network_assemble((const char *const *)p->t, p->l, p->n, &o, out, len, e);
}

static void test_keygen_files(void **state)
{
	(void)state;
	const char *peers[] = {"gossiper2"};
	ctng_keygen_opts x = {.monitor = "monitor1", .peers = peers, .n_peers = 1};
	size_t len;
	char *d = make("kg/g1", CTNG_ROLE_GOSSIPER, "gossiper1", 13300, &x, &len);
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/kg/g1/config.json", g_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof path, "%s/kg/g1/gossiper1.entity.json", g_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* the descriptor holds public keys only */
	json_t *j = json_loads(d, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "monitor")), "monitor1");
	assert_int_equal(strlen(json_string_value(json_object_get(j, "dkg_key"))), 64);
	assert_null(json_object_get(j, "private_key"));
	assert_null(json_object_get(j, "bls_sk"));
	assert_null(strstr(d, "PRIVATE"));
	json_decref(j);
	/* the private key of config.json does not appear in the descriptor */
	snprintf(path, sizeof path, "%s/kg/g1/config.json", g_dir);
	char *c = slurp(path, NULL);
	j = json_loads(c, 0, NULL);
	const char *dk = json_string_value(json_object_get(j, "dkg_private_key"));
	assert_non_null(dk);
	assert_null(strstr(d, dk));
	assert_string_equal(json_string_value(json_object_get(j, "listen")), "127.0.0.1:13300");
	json_decref(j);
	free(c);
	free(d);
	/* a CA gets its root beside the config; a second keygen refuses */
	d = make("kg/c1", CTNG_ROLE_CA, "ca1", 13100, NULL, NULL);
	assert_non_null(strstr(d, "BEGIN CERTIFICATE"));
	free(d);
	snprintf(path, sizeof path, "%s/kg/c1/root.pem", g_dir);
	assert_int_equal(stat(path, &st), 0);
	ctng_keygen_opts o = {.role = CTNG_ROLE_CA, .id = "ca1", .url = "http://127.0.0.1:13100"};
	ctng_err e = {0};
	snprintf(path, sizeof path, "%s/kg/c1", g_dir);
	assert_int_equal(ctng_keygen(path, &o, &e), CTNG_EINVAL);
	assert_non_null(strstr(e.msg, "refusing to overwrite"));
	/* bad options */
	o = (ctng_keygen_opts){.role = CTNG_ROLE_LOGGER, .id = "bad id", .url = "http://h:1"};
	assert_int_equal(ctng_keygen(path, &o, &e), CTNG_EINVAL);
	o = (ctng_keygen_opts){.role = CTNG_ROLE_LOGGER, .id = "l9", .url = "ftp://h:1"};
	snprintf(path, sizeof path, "%s/kg/l9", g_dir);
	assert_int_equal(ctng_keygen(path, &o, &e), CTNG_EINVAL);
	o = (ctng_keygen_opts){
	    .role = CTNG_ROLE_LOGGER, .id = "l9", .url = "http://h:1", .monitor = "m1"};
	assert_int_equal(ctng_keygen(path, &o, &e), CTNG_EINVAL);
	assert_non_null(strstr(e.msg, "for gossipers"));
	/* a DNS host listens on every address */
	o = (ctng_keygen_opts){.role = CTNG_ROLE_LOGGER, .id = "l9", .url = "http://log.example:9"};
	assert_int_equal(ctng_keygen(path, &o, &e), 0);
	snprintf(path, sizeof path, "%s/kg/l9/config.json", g_dir);
	c = slurp(path, NULL);
	assert_non_null(strstr(c, "\"0.0.0.0:9\""));
	free(c);
}

static void test_assemble_and_load(void **state)
{
	(void)state;
	parts p;
	make_small("a", &p);
	char *out = NULL;
	size_t len = 0;
	ctng_err e = {0};
	int rc = assemble(&p, 2, &out, &len, &e);
	if (rc)
		fprintf(stderr, "assemble: %s\n", e.msg);
	assert_int_equal(rc, 0);
	ctng_network net;
	assert_int_equal(ctng_network_parse(out, len, &net, &e), 0);
	assert_false(net.has_bls);
	assert_int_equal(net.dkg_phase_ms, CTNG_DKG_DEFAULT_PHASE_MS);
	/* ordered by role then id */
	const char *order[] = {"logger1",  "logger2",   "ca1",      "monitor1",
	                       "monitor2", "gossiper1", "gossiper2"};
	assert_int_equal(net.n_entities, 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(net.entities[i].id, order[i]);
	const ctng_entity *g1 = ctng_network_entity(&net, "gossiper1");
	assert_int_equal(g1->bls_id, 1);
	assert_true(g1->has_dkg_key);
	assert_non_null(g1->key);
	assert_int_equal(g1->n_peers, 1);
	assert_string_equal(ctng_network_monitor_of(&net, "gossiper2")->id, "monitor2");
	assert_true(ctng_network_watches(&net, "monitor1", "logger1"));
	assert_true(ctng_network_watches(&net, "monitor1", "logger2"));
	assert_true(ctng_network_watches(&net, "monitor2", "ca1"));
	/* every config made by keygen loads against it (network.json beside it) */
	char path[512];
	snprintf(path, sizeof path, "%s/a/gossiper1/network.json", g_dir);
	assert_int_equal(ctng_write_file_atomic(path, out, len, 0644, &e), 0);
	snprintf(path, sizeof path, "%s/a/gossiper1/config.json", g_dir);
	ctng_node_config cfg;
	rc = ctng_node_config_load(path, &cfg, &e);
	if (rc)
		fprintf(stderr, "load: %s\n", e.msg);
	assert_int_equal(rc, 0);
	assert_true(cfg.has_dkg_sk);
	assert_false(cfg.has_bls_sk);
	assert_non_null(cfg.key);
	ctng_node_config_free(&cfg);

	/* the argument order does not change the result */
	parts q = p;
	for (size_t i = 0; i < p.n; i++) {
		q.t[i] = p.t[p.n - 1 - i];
		q.l[i] = p.l[p.n - 1 - i];
	}
	char *out2 = NULL;
	assert_int_equal(assemble(&q, 2, &out2, NULL, &e), 0);
	assert_string_equal(out, out2);
	free(out2);

	/* fingerprint: stable through filling in keys, changed by any edit */
	uint8_t f1[32], f2[32];
	assert_int_equal(ctng_network_fingerprint(out, len, f1, &e), 0);
	assert_memory_equal(f1, net.fingerprint, 32);
	uint8_t gpk[96], com[2][96];
	ctng_bls_share sh[2];
	assert_int_equal(ctng_bls_deal(2, 2, NULL, 0, gpk, com, sh, &e), 0);
	char *keyed = NULL;
	size_t kl = 0;
	assert_int_equal(
	    ctng_network_json_set_bls(out, len, gpk, (const uint8_t(*)[96])com, 2, &keyed, &kl, &e),
	    0);
	ctng_network kn;
	assert_int_equal(ctng_network_parse(keyed, kl, &kn, &e), 0);
	assert_true(kn.has_bls);
	assert_memory_equal(kn.fingerprint, f1, 32);
	assert_memory_equal(ctng_network_entity(&kn, "gossiper2")->bls_pk, sh[1].pk, 96);
	/* the in-memory variant gives the same keys */
	assert_int_equal(ctng_network_set_bls(&net, gpk, (const uint8_t(*)[96])com, 2, &e), 0);
	assert_memory_equal(ctng_network_entity(&net, "gossiper2")->bls_pk, sh[1].pk, 96);
	assert_int_equal(ctng_network_set_bls(&net, gpk, (const uint8_t(*)[96])com, 2, &e),
	                 CTNG_ESTATE);
	/* a second fill-in is refused; wrong commitments are refused */
	char *again = NULL;
	assert_int_equal(ctng_network_json_set_bls(keyed, kl, gpk, (const uint8_t(*)[96])com, 2,
	                                           &again, NULL, &e),
	                 CTNG_ESTATE);
	assert_int_not_equal(ctng_network_json_set_bls(out, len, sh[0].pk,
	                                               (const uint8_t(*)[96])com, 2, &again, NULL,
	                                               &e),
	                     0);
	char *edited = strdup(out);
	char *at = strstr(edited, "\"period_ms\": 2000");
	assert_non_null(at);
	at[14] = '3';
	assert_int_equal(ctng_network_fingerprint(edited, strlen(edited), f2, &e), 0);
	assert_memory_not_equal(f1, f2, 32);
	char txt[CTNG_FINGERPRINT_TEXT_LEN];
	ctng_fingerprint_text(f1, txt);
	assert_int_equal(strlen(txt), 29);
	assert_int_equal(txt[4], '-');
	free(edited);
	ctng_network_free(&kn);
	free(keyed);
	ctng_network_free(&net);
	free(out);
	parts_free(&p);
}

/* Replaces descriptor k of p by the edit of its JSON. */
static void edit(parts *p, size_t k, void (*fn)(json_t *))
{
	json_t *j = json_loads(p->t[k], 0, NULL);
	assert_non_null(j);
	fn(j);
	free(p->t[k]);
	p->t[k] = json_dumps(j, 0);
	p->l[k] = strlen(p->t[k]);
	json_decref(j);
}

static void e_share(json_t *j)
{
	json_object_set_new(j, "bls_id", json_integer(1));
}
static void e_unknown(json_t *j)
{
	json_object_set_new(j, "colour", json_string("red"));
}
static void e_badkey(json_t *j)
{
	json_object_set_new(j, "public_key", json_string("00"));
}
static void e_nodkg(json_t *j)
{
	json_object_del(j, "dkg_key");
}
static void e_dup_url(json_t *j)
{
	json_object_set_new(j, "url", json_string("http://127.0.0.1:13000"));
}
/* found by fuzz_assemble: a descriptor without a url (or with a number
 * there) made the url comparison call strcmp(NULL) */
static void e_no_url(json_t *j)
{
	json_object_del(j, "url");
}
static void e_num_url(json_t *j)
{
	json_object_set_new(j, "url", json_integer(13000));
}
static void e_dup_id(json_t *j)
{
	json_object_set_new(j, "id", json_string("logger1"));
}
static void e_bad_watch(json_t *j)
{
	json_t *a = json_array();
	json_array_append_new(a, json_string("logger7"));
	json_object_set_new(j, "loggers", a);
}
static void e_bad_pair(json_t *j)
{
	json_object_set_new(j, "gossiper", json_string("gossiper2"));
}
static void e_bad_pair2(json_t *j)
{
	json_object_set_new(j, "monitor", json_string("monitor2"));
}

static void test_assemble_rejects(void **state)
{
	(void)state;
	parts base;
	make_small("r", &base);
	/* indexes in make_small: 0 gossiper2, 1 logger2, 2 monitor1, 3 ca1,
	 * 4 gossiper1, 5 logger1, 6 monitor2 */
	struct {
		size_t k;
		void (*fn)(json_t *);
		const char *want;
	} cases[] = {
	    {0, e_share, "share keys"},  {3, e_unknown, "unknown field"},
	    {1, e_badkey, "public_key"}, {4, e_nodkg, "transport key"},
	    {1, e_dup_url, "url"},       {1, e_dup_id, "logger1"},
	    {2, e_bad_watch, "logger7"}, {2, e_bad_pair, "gossiper2"},
	    {3, e_no_url, "url"},        {6, e_num_url, "url"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		parts p = base;
		for (size_t i = 0; i < p.n; i++)
			p.t[i] = strdup(base.t[i]);
		edit(&p, cases[c].k, cases[c].fn);
		if (cases[c].fn == e_bad_pair)
			edit(&p, 0, e_bad_pair2); /* gossiper2 claims monitor2 */
		char *out = NULL;
		ctng_err e = {0};
		int rc = assemble(&p, 2, &out, NULL, &e);
		if (rc != CTNG_EINVAL || !strstr(e.msg, cases[c].want))
			fprintf(stderr, "case %zu: rc %d msg \"%s\"\n", c, rc, e.msg);
		assert_int_equal(rc, CTNG_EINVAL);
		assert_non_null(strstr(e.msg, cases[c].want));
		assert_null(out);
		parts_free(&p);
	}
	/* threshold above the gossipers; a monitor without a gossiper */
	char *out = NULL;
	ctng_err e = {0};
	assert_int_equal(assemble(&base, 3, &out, NULL, &e), CTNG_EINVAL);
	assert_non_null(strstr(e.msg, "threshold"));
	parts p = base;
	p.n = 6; /* drop monitor2 */
	assert_int_equal(assemble(&p, 1, &out, NULL, &e), CTNG_EINVAL);
	assert_non_null(strstr(e.msg, "every monitor needs one gossiper"));
	/* garbage */
	const char *junk[] = {"{", "[]", "{\"id\":\"x\",\"role\":\"king\"}"};
	size_t jl[] = {1, 2, strlen(junk[2])};
	ctng_assemble_opts o = {.threshold = 1, .period_ms = 2000};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(ctng_network_assemble(&junk[i], &jl[i], 1, &o, &out, NULL, &e),
		                 CTNG_EINVAL);
	parts_free(&base);
}

/* A network that reshares another keeps its holders and, once keyed, the
 * same group key. */
static void test_assemble_reshare(void **state)
{
	(void)state;
	parts p;
	make_small("rs", &p);
	char *out = NULL, *keyed = NULL, *next = NULL;
	size_t len = 0, kl = 0, nl = 0;
	ctng_err e = {0};
	assert_int_equal(assemble(&p, 2, &out, &len, &e), 0);
	uint8_t gpk[96], com[2][96], gpk2[96], com2[2][96];
	ctng_bls_share sh[2], sh2[2];
	assert_int_equal(ctng_bls_deal(2, 2, NULL, 0, gpk, com, sh, &e), 0);
	assert_int_equal(
	    ctng_network_json_set_bls(out, len, gpk, (const uint8_t(*)[96])com, 2, &keyed, &kl, &e),
	    0);
	ctng_network old;
	assert_int_equal(ctng_network_parse(keyed, kl, &old, &e), 0);
	ctng_assemble_opts o = {.threshold = 1,
	                        .period_ms = 2000,
	                        .genesis_ms = 1700000000000ULL,
	                        .reshare_from = &old};
	assert_int_equal(
	    ctng_network_assemble((const char *const *)p.t, p.l, p.n, &o, &next, &nl, &e), 0);
	ctng_network nn;
	assert_int_equal(ctng_network_parse(next, nl, &nn, &e), 0);
	assert_true(nn.reshare.present);
	assert_int_equal(nn.reshare.threshold, 2);
	assert_int_equal(nn.reshare.n_holders, 2);
	assert_memory_equal(nn.reshare.group_pk, gpk, 96);
	assert_memory_equal(nn.reshare.fingerprint, old.fingerprint, 32);
	assert_memory_equal(nn.reshare.holders[1].bls_pk, sh[1].pk, 96);
	/* another group key does not fit it */
	assert_int_equal(ctng_bls_deal(1, 2, NULL, 0, gpk2, com2, sh2, &e), 0);
	char *bad = NULL;
	assert_int_equal(ctng_network_json_set_bls(next, nl, gpk2, (const uint8_t(*)[96])com2, 1,
	                                           &bad, NULL, &e),
	                 CTNG_EINVAL);
	assert_non_null(strstr(e.msg, "reshared"));
	/* reshare from a network without keys is refused */
	ctng_network unkeyed;
	assert_int_equal(ctng_network_parse(out, len, &unkeyed, &e), 0);
	o.reshare_from = &unkeyed;
	assert_int_equal(
	    ctng_network_assemble((const char *const *)p.t, p.l, p.n, &o, &bad, NULL, &e),
	    CTNG_EINVAL);
	ctng_network_free(&unkeyed);
	ctng_network_free(&nn);
	ctng_network_free(&old);
	free(next);
	free(keyed);
	free(out);
	parts_free(&p);
}

/* ctng init without a dealer: every key made, no group key, every file loads. */
static void test_init_without_dealer(void **state)
{
	(void)state;
	char dir[128], path[256];
	snprintf(dir, sizeof dir, "%s/init", g_dir);
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.dkg = true;
	o.period_ms = 2000;
	ctng_err e = {0};
	assert_int_equal(ctng_init_network(dir, &o, &e), 0);
	ctng_network net;
	snprintf(path, sizeof path, "%s/network.json", dir);
	assert_int_equal(ctng_network_load(path, &net, &e), 0);
	assert_false(net.has_bls);
	for (size_t i = 0; i < net.n_entities; i++) {
		snprintf(path, sizeof path, "%s/%s/config.json", dir, net.entities[i].id);
		ctng_node_config c;
		assert_int_equal(ctng_node_config_load(path, &c, &e), 0);
		assert_false(c.has_bls_sk);
		if (c.self->role == CTNG_ROLE_GOSSIPER)
			assert_true(c.has_dkg_sk);
		ctng_node_config_free(&c);
	}
	ctng_network_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keygen_files),        cmocka_unit_test(test_assemble_and_load),
	    cmocka_unit_test(test_assemble_rejects),    cmocka_unit_test(test_assemble_reshare),
	    cmocka_unit_test(test_init_without_dealer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
