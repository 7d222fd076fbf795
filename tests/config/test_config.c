/*
 * test_config.c — the network configuration (ctng/config.h): `ctng init`'s
 * generator writes the DESIGN §9 seed network that loads back (topology,
 * ports, modes, CA roots, working BLS shares), and corrupted copies of
 * network.json / config.json are rejected with a message naming the problem.
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
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctng/bls.h"
#include "ctng/config.h"
#include "testutil.h"

static char g_dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/ctng_cfg_XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.genesis_ms = 1700000000000ULL;
	o.period_ms = 2000;
	ctng_err err = {0};
	if (ctng_init_network(g_dir, &o, &err)) {
		fprintf(stderr, "init: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctng_test_rm_rf(g_dir);
	return 0;
}

static char *slurp(const char *path)
{
	uint8_t *d = NULL;
	size_t n = 0;
	assert_int_equal(ctng_read_file(path, 1 << 24, &d, &n, NULL), 0);
	return (char *)d;
}

static json_t *load_network_json(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/network.json", g_dir);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	assert_non_null(j);
	return j;
}

static json_t *entity(json_t *net, const char *id)
{
	json_t *ents = json_object_get(net, "entities");
	for (size_t i = 0; i < json_array_size(ents); i++) {
		json_t *e = json_array_get(ents, i);
		if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
			return e;
	}
	fail_msg("no entity %s", id);
	return NULL;
}

/* Parses the mutated network and expects a rejection naming `want`. */
static void expect_net_reject(json_t *j, const char *want)
{
	char *s = json_dumps(j, 0);
	ctng_network net;
	ctng_err err = {0};
	int rc = ctng_network_parse(s, strlen(s), &net, &err);
	free(s);
	if (rc != CTNG_EINVAL || !strstr(err.msg, want))
		fail_msg("wanted EINVAL naming \"%s\", got %d \"%s\"", want, rc, err.msg);
	json_decref(j);
}

static void test_seed_network(void **state)
{
	(void)state;
	ctng_err err = {0};
	char path[256];
	snprintf(path, sizeof(path), "%s/network.json", g_dir);
	ctng_network net;
	assert_int_equal(ctng_network_load(path, &net, &err), 0);
	assert_int_equal(ctng_network_count(&net, CTNG_ROLE_LOGGER), 3);
	assert_int_equal(ctng_network_count(&net, CTNG_ROLE_CA), 3);
	assert_int_equal(ctng_network_count(&net, CTNG_ROLE_MONITOR), 4);
	assert_int_equal(ctng_network_count(&net, CTNG_ROLE_GOSSIPER), 4);
	assert_int_equal(net.threshold, 2);
	assert_int_equal(net.clock.genesis_ms, 1700000000000ULL);
	assert_int_equal(net.clock.period_ms, 2000);
	assert_true(net.has_bls);
	assert_int_equal(net.n_commitments, 2);

	const ctng_entity *l1 = ctng_network_entity(&net, "logger1");
	assert_non_null(l1);
	assert_string_equal(l1->url, "http://127.0.0.1:9000");
	assert_int_equal(ctng_network_entity(&net, "logger3")->port, 9002);
	assert_int_equal(ctng_network_entity(&net, "ca1")->port, 9100);
	assert_int_equal(ctng_network_entity(&net, "ca3")->port, 9102);
	assert_int_equal(ctng_network_entity(&net, "monitor1")->port, 9200);
	assert_int_equal(ctng_network_entity(&net, "gossiper4")->port, 9303);
	assert_int_equal(ctng_sig_key_alg(l1->key), CTNG_SIG_ECDSA_P256);

	/* DESIGN §9 topology table */
	static const char *want[4][4] = {{"logger1", "logger2", "ca1", "ca3"},
	                                 {"logger2", "logger3", "ca2", "ca3"},
	                                 {"logger1", "logger2", "ca1", "ca3"},
	                                 {"logger2", "logger3", "ca2", "ca3"}};
	for (int m = 0; m < 4; m++) {
		const ctng_entity *e = ctng_network_nth(&net, CTNG_ROLE_MONITOR, (size_t)m);
		assert_int_equal(e->n_loggers, 2);
		assert_int_equal(e->n_cas, 2);
		assert_string_equal(e->loggers[0], want[m][0]);
		assert_string_equal(e->loggers[1], want[m][1]);
		assert_string_equal(e->cas[0], want[m][2]);
		assert_string_equal(e->cas[1], want[m][3]);
		const ctng_entity *g = ctng_network_gossiper_of(&net, e->id);
		assert_non_null(g);
		assert_int_equal(g->bls_id, (uint32_t)m + 1);
		assert_ptr_equal(ctng_network_monitor_of(&net, g->id), e);
		assert_int_equal(g->n_peers, 3);
		assert_ptr_equal(ctng_network_by_bls_id(&net, g->bls_id), g);
	}
	assert_true(ctng_network_watches(&net, "monitor1", "ca3"));
	assert_false(ctng_network_watches(&net, "monitor1", "logger3"));
	assert_null(ctng_network_entity(&net, "logger4"));

	/* every private config loads and is mode 0600; CA roots exist */
	for (size_t i = 0; i < net.n_entities; i++) {
		const ctng_entity *e = &net.entities[i];
		snprintf(path, sizeof(path), "%s/%s/config.json", g_dir, e->id);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		ctng_node_config c;
		if (ctng_node_config_load(path, &c, &err))
			fail_msg("%s: %s", path, err.msg);
		assert_string_equal(c.id, e->id);
		assert_ptr_equal(c.self, ctng_network_entity(&c.net, e->id));
		assert_false(c.misbehaviour.present);
		if (e->role == CTNG_ROLE_GOSSIPER)
			assert_true(c.has_bls_sk);
		else
			assert_true(ctng_sig_key_has_private(c.key));
		ctng_node_config_free(&c);
	}
	ctng_network_free(&net);
}

static void test_ca_root(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof(path), "%s/ca2/root.pem", g_dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	assert_int_equal(X509_check_ca(x), 1);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1); /* self-signed */
	assert_int_equal(X509_get_version(x), 2);
	/* `openssl verify` would accept it as a trust anchor */
	X509_STORE *store = X509_STORE_new();
	X509_STORE_add_cert(store, x);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, x, NULL);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
}

static void test_bls_shares(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_node_config g[4];
	char path[256];
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/gossiper%d/config.json", g_dir, i + 1);
		assert_int_equal(ctng_node_config_load(path, &g[i], &err), 0);
	}
	const uint8_t msg[] = "CTng/v1/attest test";
	uint8_t parts[2][CTNG_BLS_SIG_LEN], full[CTNG_BLS_SIG_LEN];
	uint32_t ids[2] = {g[1].self->bls_id, g[3].self->bls_id};
	assert_int_equal(ctng_bls_sign(parts[0], g[1].bls_sk, msg, sizeof(msg), NULL, &err), 0);
	assert_int_equal(ctng_bls_sign(parts[1], g[3].bls_sk, msg, sizeof(msg), NULL, &err), 0);
	assert_int_equal(
	    ctng_bls_partial_verify(g[1].self->bls_pk, msg, sizeof(msg), parts[0], NULL, &err), 0);
	assert_int_equal(ctng_bls_combine(full, ids, (const uint8_t(*)[48])parts, 2, 2, &err), 0);
	assert_int_equal(ctng_bls_verify(g[0].net.group_pk, msg, sizeof(msg), full, NULL, &err), 0);
	for (int i = 0; i < 4; i++)
		ctng_node_config_free(&g[i]);
}

static void test_network_rejects(void **state)
{
	(void)state;
	json_t *j;

	j = load_network_json();
	json_array_set_new(json_object_get(entity(j, "monitor1"), "loggers"), 0,
	                   json_string("logger9"));
	expect_net_reject(j, "unknown id \"logger9\"");

	j = load_network_json();
	json_object_set_new(entity(j, "logger2"), "url", json_string("http://127.0.0.1:9000"));
	expect_net_reject(j, "duplicate port");

	j = load_network_json();
	json_object_set_new(j, "threshold", json_integer(5));
	expect_net_reject(j, "threshold");

	/* A logger's C2SP note key: named by its origin, key ID matching. */
	j = load_network_json();
	json_object_set_new(entity(j, "logger2"), "note_key",
	                    json_deep_copy(json_object_get(entity(j, "logger1"), "note_key")));
	expect_net_reject(j, "note_key must be named");
	j = load_network_json();
	{
		char *vk =
		    strdup(json_string_value(json_object_get(entity(j, "logger1"), "note_key")));
		char *plus = strchr(vk, '+');
		plus[1] = plus[1] == '0' ? '1' : '0'; /* another key ID */
		json_object_set_new(entity(j, "logger1"), "note_key", json_string(vk));
		free(vk);
	}
	expect_net_reject(j, "key ID does not match");
	j = load_network_json();
	json_object_set_new(entity(j, "ca1"), "note_key",
	                    json_deep_copy(json_object_get(entity(j, "logger1"), "note_key")));
	expect_net_reject(j, "note_key");

	j = load_network_json();
	json_object_set_new(j, "threshold", json_integer(0));
	expect_net_reject(j, "threshold");

	j = load_network_json();
	json_object_set_new(entity(j, "ca1"), "public_key", json_string("3059abcd"));
	expect_net_reject(j, "public_key");

	j = load_network_json();
	json_object_set_new(entity(j, "ca2"), "id", json_string("ca1"));
	expect_net_reject(j, "duplicate entity id");

	j = load_network_json();
	json_object_set_new(entity(j, "ca2"), "role", json_string("auditor"));
	expect_net_reject(j, "role");

	j = load_network_json();
	json_object_set_new(entity(j, "ca2"), "url", json_string("ftp://127.0.0.1:9101"));
	expect_net_reject(j, "url");

	j = load_network_json();
	json_object_set_new(entity(j, "ca2"), "url", json_string("http://127.0.0.1:99999"));
	expect_net_reject(j, "port");

	j = load_network_json();
	json_object_set_new(j, "query_offset_ms", json_integer(2000));
	expect_net_reject(j, "offset");

	j = load_network_json();
	json_object_set_new(j, "period_ms", json_integer(-1));
	expect_net_reject(j, "period_ms");

	j = load_network_json();
	json_object_del(entity(j, "monitor2"), "gossiper");
	expect_net_reject(j, "gossiper");

	j = load_network_json();
	json_object_set_new(entity(j, "monitor2"), "gossiper", json_string("gossiper1"));
	expect_net_reject(j, "paired");

	j = load_network_json();
	json_object_set_new(entity(j, "monitor2"), "cas", json_pack("[s]", "logger1"));
	expect_net_reject(j, "is not a ca");

	j = load_network_json();
	json_object_set_new(entity(j, "gossiper2"), "peers", json_pack("[s]", "gossiper2"));
	expect_net_reject(j, "itself");

	j = load_network_json();
	json_object_set_new(entity(j, "logger1"), "extra", json_true());
	expect_net_reject(j, "unknown field");

	j = load_network_json();
	json_object_set(entity(j, "gossiper1"), "bls_pk",
	                json_object_get(entity(j, "gossiper2"), "bls_pk"));
	expect_net_reject(j, "bls_pk");

	j = load_network_json();
	json_object_set_new(entity(j, "gossiper1"), "bls_id", json_integer(2));
	expect_net_reject(j, "bls_id");

	j = load_network_json();
	json_object_set(entity(j, "ca1"), "root_cert",
	                json_object_get(entity(j, "ca2"), "root_cert"));
	expect_net_reject(j, "root_cert");

	j = load_network_json();
	json_object_set(entity(j, "logger1"), "public_key",
	                json_object_get(entity(j, "monitor1"), "public_key"));
	expect_net_reject(j, "ECDSA");

	j = load_network_json();
	json_object_set_new(j, "commitments", json_array());
	expect_net_reject(j, "commitments");

	/* malformed JSON: truncated, trailing garbage, duplicate keys */
	char path[256];
	snprintf(path, sizeof(path), "%s/network.json", g_dir);
	char *s = slurp(path);
	ctng_network net;
	ctng_err err = {0};
	assert_int_equal(ctng_network_parse(s, strlen(s) / 2, &net, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "malformed JSON"));
	char *dup = malloc(strlen(s) + 32);
	sprintf(dup, "{\"threshold\":2,%s", s + 1);
	assert_int_equal(ctng_network_parse(dup, strlen(dup), &net, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "malformed JSON"));
	sprintf(dup, "%s}", s);
	assert_int_equal(ctng_network_parse(dup, strlen(dup), &net, &err), CTNG_EINVAL);
	free(dup);
	free(s);
}

/* Parses a mutated private config of `id` against the real network. */
static void expect_node_reject(const char *id, json_t *j, const char *want)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/network.json", g_dir);
	ctng_network net;
	ctng_err err = {0};
	assert_int_equal(ctng_network_load(path, &net, &err), 0);
	char *s = json_dumps(j, 0);
	ctng_node_config c;
	snprintf(path, sizeof(path), "%s/%s", g_dir, id);
	int rc = ctng_node_config_parse(s, strlen(s), path, &net, &c, &err);
	free(s);
	json_decref(j);
	if (rc != CTNG_EINVAL || !strstr(err.msg, want))
		fail_msg("%s: wanted EINVAL naming \"%s\", got %d \"%s\"", id, want, rc, err.msg);
}

static json_t *load_node_json(const char *id)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s/config.json", g_dir, id);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	assert_non_null(j);
	return j;
}

static void test_node_rejects(void **state)
{
	(void)state;
	json_t *j, *other;

	j = load_node_json("logger1");
	other = load_node_json("logger2");
	json_object_set(j, "private_key", json_object_get(other, "private_key"));
	json_decref(other);
	expect_node_reject("logger1", j, "does not match");

	j = load_node_json("logger1");
	json_object_set_new(j, "private_key", json_string("-----BEGIN PRIVATE KEY-----\nAA==\n"));
	expect_node_reject("logger1", j, "private_key");

	j = load_node_json("ca1");
	json_object_set_new(j, "listen", json_string("127.0.0.1:9999"));
	expect_node_reject("ca1", j, "listen");

	j = load_node_json("ca1");
	json_object_set_new(j, "id", json_string("ca7"));
	expect_node_reject("ca1", j, "not in the network");

	j = load_node_json("monitor1");
	json_object_set_new(j, "misbehaviour", json_pack("{s:b}", "loud", 1));
	expect_node_reject("monitor1", j, "misbehaviour");

	j = load_node_json("logger1");
	json_object_set_new(j, "misbehaviour", json_pack("{s:[s]}", "split_targets", "nobody"));
	expect_node_reject("logger1", j, "split_targets");

	j = load_node_json("gossiper1");
	other = load_node_json("gossiper2");
	json_object_set(j, "bls_sk", json_object_get(other, "bls_sk"));
	json_decref(other);
	expect_node_reject("gossiper1", j, "bls_sk");

	j = load_node_json("gossiper1");
	json_object_set_new(j, "private_key", json_string("x"));
	expect_node_reject("gossiper1", j, "private_key");

	j = load_node_json("gossiper1");
	json_object_set_new(j, "limits", json_pack("{s:i}", "max_conns", 5));
	expect_node_reject("gossiper1", j, "max_conns");
	j = load_node_json("gossiper1");
	json_object_set_new(j, "limits", json_pack("{s:i}", "header_timeout_ms", -1));
	expect_node_reject("gossiper1", j, "header_timeout_ms");
	j = load_node_json("gossiper1");
	json_object_set_new(j, "limits", json_string("none"));
	expect_node_reject("gossiper1", j, "limits");

	/* a missing network file is an I/O error naming the path */
	j = load_node_json("ca3");
	json_object_set_new(j, "network", json_string("../nowhere.json"));
	char *s = json_dumps(j, 0);
	json_decref(j);
	ctng_node_config c;
	ctng_err err = {0};
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/ca3", g_dir);
	assert_int_equal(ctng_node_config_parse(s, strlen(s), dir, NULL, &c, &err), CTNG_EIO);
	free(s);
}

static void test_limits(void **state)
{
	(void)state;
	json_t *j = load_node_json("monitor2");
	json_object_set_new(j, "limits",
	                    json_pack("{s:i,s:I,s:i,s:i,s:i}", "max_connections", 100,
	                              "max_buffered_bytes", (json_int_t)1 << 30,
	                              "header_timeout_ms", 1500, "body_timeout_ms", 2000,
	                              "idle_timeout_ms", 3000));
	char *s = json_dumps(j, 0);
	json_decref(j);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/monitor2", g_dir);
	ctng_node_config c;
	ctng_err err = {0};
	assert_int_equal(ctng_node_config_parse(s, strlen(s), dir, NULL, &c, &err), 0);
	assert_int_equal(c.server.max_connections, 100);
	assert_int_equal(c.server.max_buffered, (size_t)1 << 30);
	assert_int_equal(c.server.header_timeout_ms, 1500);
	assert_int_equal(c.server.body_timeout_ms, 2000);
	assert_int_equal(c.server.idle_timeout_ms, 3000);
	assert_int_equal(c.server.max_body, 0); /* the daemon's own */
	ctng_node_config_free(&c);
	free(s);
	/* absent: all defaults */
	j = load_node_json("monitor2");
	s = json_dumps(j, 0);
	json_decref(j);
	assert_int_equal(ctng_node_config_parse(s, strlen(s), dir, NULL, &c, &err), 0);
	assert_int_equal(c.server.max_connections, 0);
	assert_int_equal(c.server.header_timeout_ms, 0);
	ctng_node_config_free(&c);
	free(s);
}

/* ctng init --tls: https URLs, certificates on disk, "tls" in every config,
 * and the rules of the "tls" section. */
static void test_tls(void **state)
{
	(void)state;
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/ctng_cfg_tls_XXXXXX");
	assert_non_null(mkdtemp(dir));
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.loggers = 1;
	o.cas = 1;
	o.monitors = 2;
	o.port_base = 20400;
	o.tls = true;
	ctng_err err = {0};
	assert_int_equal(ctng_init_network(dir, &o, &err), 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/monitor1/config.json", dir);
	ctng_node_config c;
	if (ctng_node_config_load(path, &c, &err))
		fail_msg("load: %s", err.msg);
	assert_true(c.self->tls);
	assert_string_equal(c.self->url, "https://127.0.0.1:20600");
	assert_non_null(strstr(c.server.tls_cert_file, "/monitor1/tls/cert.pem"));
	assert_non_null(strstr(c.server.tls_key_file, "/monitor1/tls/key.pem"));
	assert_non_null(strstr(c.server.tls_ca_file, "/monitor1/../tls/ca.pem"));
	assert_int_equal(access(c.server.tls_cert_file, R_OK), 0);
	assert_int_equal(access(c.server.tls_ca_file, R_OK), 0);
	struct stat st;
	assert_int_equal(stat(c.server.tls_key_file, &st), 0);
	assert_int_equal(st.st_mode & 077, 0); /* the key is private */
	ctng_node_config_free(&c);

	/* the rules, on a copy of monitor1's config */
	snprintf(path, sizeof(path), "%s/network.json", dir);
	struct {
		const char *tls; /* JSON of "tls", NULL: remove it */
		const char *want;
	} bad[] = {
	    {NULL, "tls.cert and tls.key are required"},
	    {"{\"cert\": \"c.pem\"}", "tls.cert and tls.key are required"},
	    {"{\"cert\": \"c.pem\", \"key\": \"k.pem\", \"crt\": \"x\"}", "crt"},
	    {"{\"cert\": \"\", \"key\": \"k.pem\"}", "must not be empty"},
	    {"[]", "tls: must be an object"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char cp[256];
		snprintf(cp, sizeof(cp), "%s/monitor1/config.json", dir);
		json_t *j = json_load_file(cp, 0, NULL);
		assert_non_null(j);
		if (bad[i].tls)
			json_object_set_new(j, "tls", json_loads(bad[i].tls, 0, NULL));
		else
			json_object_del(j, "tls");
		char *text = json_dumps(j, 0);
		json_decref(j);
		ctng_network net;
		assert_int_equal(ctng_network_load(path, &net, &err), 0);
		char mdir[256];
		snprintf(mdir, sizeof(mdir), "%s/monitor1", dir);
		int rc = ctng_node_config_parse(text, strlen(text), mdir, &net, &c, &err);
		free(text);
		if (rc != CTNG_EINVAL || !strstr(err.msg, bad[i].want))
			fail_msg("tls %s: wanted \"%s\", got %d \"%s\"", bad[i].tls ? bad[i].tls : "absent",
			         bad[i].want, rc, err.msg);
	}
	ctng_test_rm_rf(dir);
	/* an http:// node may name a CA bundle but not serve TLS */
	json_t *j = load_node_json("logger1");
	json_object_set_new(j, "tls", json_pack("{s:s,s:s}", "cert", "c.pem", "key", "k.pem"));
	expect_node_reject("logger1", j, "http:// url");
	j = load_node_json("logger1");
	json_object_set_new(j, "tls", json_pack("{s:s}", "ca", "/etc/ssl/certs/ca-certificates.crt"));
	char *text = json_dumps(j, 0);
	json_decref(j);
	char ldir[256];
	snprintf(ldir, sizeof(ldir), "%s/logger1", g_dir);
	assert_int_equal(ctng_node_config_parse(text, strlen(text), ldir, NULL, &c, &err), 0);
	assert_string_equal(c.server.tls_ca_file, "/etc/ssl/certs/ca-certificates.crt");
	assert_null(c.server.tls_cert_file);
	ctng_node_config_free(&c);
	free(text);
}

static void test_misbehaviour(void **state)
{
	(void)state;
	char src[256], path[256];
	snprintf(src, sizeof(src), "%s/logger1/config.json", g_dir);
	snprintf(path, sizeof(path), "%s/logger1/config.mis.json", g_dir);
	char *s = slurp(src);
	ctng_err err = {0};
	assert_int_equal(ctng_write_file_atomic(path, s, strlen(s), 0600, &err), 0);
	free(s);
	char *targets[] = {"monitor3"};
	ctng_misbehaviour m = {.present = true,
	                       .split_view = true,
	                       .split_targets = targets,
	                       .n_split_targets = 1,
	                       .answer_periods_mod = 2};
	assert_int_equal(ctng_node_config_set_misbehaviour(path, &m, &err), 0);
	ctng_node_config c;
	assert_int_equal(ctng_node_config_load(path, &c, &err), 0);
	assert_true(c.misbehaviour.present);
	assert_true(c.misbehaviour.split_view);
	assert_false(c.misbehaviour.silent);
	assert_int_equal(c.misbehaviour.answer_periods_mod, 2);
	assert_int_equal(c.misbehaviour.n_split_targets, 1);
	assert_string_equal(c.misbehaviour.split_targets[0], "monitor3");
	ctng_node_config_free(&c);
	assert_int_equal(ctng_node_config_set_misbehaviour(path, NULL, &err), 0);
	assert_int_equal(ctng_node_config_load(path, &c, &err), 0);
	assert_false(c.misbehaviour.present);
	ctng_node_config_free(&c);
	unlink(path);
}

/* ctng_node_config_listen: the loaded listen address, split; bad ones rejected. */
static void test_node_listen(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof(path), "%s/monitor1/config.json", g_dir);
	ctng_node_config c;
	ctng_err err = {0};
	assert_int_equal(ctng_node_config_load(path, &c, &err), 0);
	char host[CTNG_HOST_MAX];
	uint16_t port = 0;
	assert_int_equal(ctng_node_config_listen(&c, host, &port, &err), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, c.self->port);
	char *saved = c.listen;
	const char *bad[] = {"127.0.0.1",       ":80",          "127.0.0.1:", "127.0.0.1:0",
	                     "127.0.0.1:65536", "127.0.0.1:8x", "bad host:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.listen = (char *)bad[i];
		err = (ctng_err){0};
		assert_int_equal(ctng_node_config_listen(&c, host, &port, &err), CTNG_EINVAL);
		assert_non_null(strstr(err.msg, "listen"));
	}
	c.listen = NULL;
	assert_int_equal(ctng_node_config_listen(&c, host, &port, &err), CTNG_EINVAL);
	c.listen = saved;
	ctng_node_config_free(&c);
}

static void test_other_sizes(void **state)
{
	(void)state;
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/ctng_cfg2_XXXXXX");
	assert_non_null(mkdtemp(dir));
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.loggers = 5;
	o.cas = 1;
	o.monitors = 3;
	o.threshold = 3;
	o.period_ms = 1000;
	o.port_base = 20000;
	ctng_err err = {0};
	assert_int_equal(ctng_init_network(dir, &o, &err), 0);
	/* refuses to overwrite */
	assert_int_equal(ctng_init_network(dir, &o, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "exists"));
	char path[256];
	snprintf(path, sizeof(path), "%s/network.json", dir);
	ctng_network net;
	assert_int_equal(ctng_network_load(path, &net, &err), 0);
	assert_int_equal(ctng_network_count(&net, CTNG_ROLE_LOGGER), 5);
	assert_int_equal(ctng_network_count(&net, CTNG_ROLE_GOSSIPER), 3);
	assert_int_equal(net.threshold, 3);
	const ctng_entity *m3 = ctng_network_entity(&net, "monitor3");
	assert_int_equal(m3->n_loggers, 2);
	assert_string_equal(m3->loggers[0], "logger3");
	assert_string_equal(m3->loggers[1], "logger4");
	assert_int_equal(m3->n_cas, 1);
	assert_int_equal(ctng_network_entity(&net, "ca1")->port, 20100);
	assert_true(net.clock.genesis_ms % 1000 == 0 && net.clock.genesis_ms > 0);
	ctng_network_free(&net);
	ctng_test_rm_rf(dir);

	o.threshold = 4;
	assert_int_equal(ctng_init_network(dir, &o, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "threshold"));
	o.threshold = 1;
	o.loggers = 0;
	assert_int_equal(ctng_init_network(dir, &o, &err), CTNG_EINVAL);
	ctng_test_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_network), cmocka_unit_test(test_ca_root),
	    cmocka_unit_test(test_bls_shares),   cmocka_unit_test(test_network_rejects),
	    cmocka_unit_test(test_node_rejects), cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_tls),
	    cmocka_unit_test(test_misbehaviour),
	    cmocka_unit_test(test_node_listen),  cmocka_unit_test(test_other_sizes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
