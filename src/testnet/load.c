/*
 * load.c — extra load for a `ctng testnet` run (ctng_testnet_opts.load, used
 * by `ctng bench network`, issue 11's figure "honest seed network with 1,000
 * certificates per period"): N precertificates per period, made in advance
 * with ca1's key and root (so making them costs nothing during the run), and
 * submitted early in each period to every logger's add-pre-chain, as a CA
 * submits them, with up to 64 requests in flight. Every entry then goes
 * into the next STH of every logger, and every monitor mirrors (and
 * indexes) it. Each has a RID of its own (TESTNET_LOAD_RID_TOP down).
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"
#include "ctng/net.h"
#include "testnet_internal.h"

#define LOAD_INFLIGHT 64

int testnet_load_init(testnet_load *l, const ctng_network *net, const char *dir, size_t per_period,
                      uint64_t periods, ctng_err *err)
{
	memset(l, 0, sizeof(*l));
	if (per_period == 0)
		return 0;
	l->per_period = per_period;
	const ctng_entity *ca = ctng_network_nth(net, CTNG_ROLE_CA, 0);
	char path[4096];
	testnet_pathf(path, sizeof path, "%s/%s/config.json", dir, ca ? ca->id : "ca1");
	ctng_node_config cfg = {0};
	X509 *root = NULL;
	ctng_sig_key *subj = NULL;
	uint8_t *rder = NULL;
	size_t rlen = 0;
	int rc;
	if (!ca || !ca->root_cert_pem)
		return ctng_err_set(err, CTNG_EINVAL, "load: the network has no CA");
	if ((rc = ctng_node_config_load(path, &cfg, err)) ||
	    (rc = ctng_cert_from_pem(ca->root_cert_pem, strlen(ca->root_cert_pem), &root, err)) ||
	    (rc = ctng_cert_to_der(root, &rder, &rlen, err)) ||
	    (rc = ctng_sig_generate(CTNG_SIG_ECDSA_P256, &subj, err)))
		goto out;
	size_t n = per_period * (size_t)periods;
	if (!(l->bodies = calloc(n, sizeof(char *)))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	char *rb64 = ctng_b64_strdup(rder, rlen);
	uint64_t now = ctng_now_ms();
	for (size_t i = 0; i < n && !rc; i++) {
		char name[128];
		snprintf(name, sizeof name, "load%zu.%.40s.example", i, ca->id);
		/* a RID of its own, from the top of the range down, where ca1 (which
		 * counts up from 0) never assigns one: precertificates that shared a
		 * RID with each other or with ca1's own would be a RID CON against
		 * ca1 (docs/protocol.md §5.2), and the monitors would convict it */
		ctng_cert_template t = {.dns_name = name,
		                        .subject_key = ctng_sig_key_evp(subj),
		                        .rid = TESTNET_LOAD_RID_TOP - (uint32_t)i,
		                        .serial_len = 12,
		                        .not_before_ms = now - 60000,
		                        .not_after_ms = now + 86400000ull};
		for (int k = 0; k < 12; k++)
			t.serial[k] = (uint8_t)((i >> (8 * (k % 8))) + (uint64_t)k);
		t.serial[0] = 0x10;
		X509 *pre = NULL;
		uint8_t *der = NULL;
		size_t dlen = 0;
		if (!(rc = ctng_cert_make_precert(&t, root, cfg.key, &pre, err)) &&
		    !(rc = ctng_cert_to_der(pre, &der, &dlen, err))) {
			char *b64 = ctng_b64_strdup(der, dlen);
			size_t blen = strlen(b64) + strlen(rb64) + 32;
			if ((l->bodies[i] = malloc(blen)))
				snprintf(l->bodies[i], blen, "{\"chain\":[\"%s\",\"%s\"]}", b64,
				         rb64);
			free(b64);
			l->n_bodies++;
		}
		free(der);
		X509_free(pre);
	}
	free(rb64);
out:
	X509_free(root);
	free(rder);
	ctng_sig_key_free(subj);
	ctng_node_config_free(&cfg);
	return rc;
}

typedef struct sub {
	testnet_load *l;
	ctng_net_loop *loop;
	const ctng_network *net;
	size_t next, end, inflight;
} sub;

static void start_next(sub *s);

static void on_done(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	(void)body, (void)len;
	sub *s = arg;
	s->inflight--;
	if (err || status != 200)
		s->l->failed++;
	else
		s->l->submitted++;
	start_next(s);
	if (s->inflight == 0)
		ctng_net_loop_stop(s->loop);
}

static void start_next(sub *s)
{
	size_t nl = ctng_network_count(s->net, CTNG_ROLE_LOGGER);
	while (s->inflight < LOAD_INFLIGHT && s->next < s->end * nl) {
		size_t i = s->next / nl, lg = s->next % nl;
		s->next++;
		const char *body = s->l->bodies[i];
		if (!body)
			continue;
		char url[CTNG_URL_MAX + 32];
		snprintf(url, sizeof url, "%s/ct/v1/add-pre-chain",
		         ctng_network_nth(s->net, CTNG_ROLE_LOGGER, lg)->url);
		ctng_net_client_opts o = {.timeout_ms = 10000, .content_type = "application/json"};
		if (ctng_net_request(s->loop, "POST", url, body, strlen(body), &o, on_done, s,
		                     NULL) == 0)
			s->inflight++;
		else
			s->l->failed++;
	}
}

void testnet_load_period(testnet_load *l, const ctng_network *net)
{
	if (!l->per_period || l->next >= l->n_bodies)
		return;
	sub s = {.l = l, .net = net};
	if (!(s.loop = ctng_net_loop_new(NULL)))
		return;
	size_t end = l->next + l->per_period;
	s.end = end > l->n_bodies ? l->n_bodies : end;
	s.next = l->next * ctng_network_count(net, CTNG_ROLE_LOGGER);
	l->next = s.end;
	start_next(&s);
	if (s.inflight)
		ctng_net_loop_run(s.loop, NULL);
	ctng_net_loop_free(s.loop);
}

void testnet_load_free(testnet_load *l)
{
	for (size_t i = 0; l->bodies && i < l->n_bodies; i++)
		free(l->bodies[i]);
	free(l->bodies);
	memset(l, 0, sizeof(*l));
}
