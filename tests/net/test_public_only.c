/*
 * test_public_only.c — the client's public_only check (SSRF after DNS):
 * the address classifier (ctng_net_ip_special) over a table of special and
 * public IPv4/IPv6 addresses, embedded IPv4 forms included; prefixes; and
 * real requests through a real DNS server (libevent's evdns server on a
 * loopback UDP port, the client pointed at it with
 * ctng_net_loop_set_nameserver) whose names resolve to loopback and
 * private addresses: refused with public_only, with the name, the address
 * and its kind in the error, while the same request without public_only (or
 * with the address's prefix excepted) reaches the real HTTP server; a
 * pooled connection made without public_only is not reused for a request
 * with it.
 */
#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/net.h"
#include "srv_fixture.h"
#include "testutil.h"

/* ---------------------------------------------------------- classifier */

static void test_classifier(void **state)
{
	(void)state;
	static const struct {
		const char *ip, *what; /* what: a word of the kind, NULL = public */
	} cases[] = {
	    {"8.8.8.8", NULL},
	    {"1.1.1.1", NULL},
	    {"100.63.255.255", NULL},
	    {"100.128.0.0", NULL},
	    {"172.15.255.255", NULL},
	    {"172.32.0.0", NULL},
	    {"192.0.1.1", NULL},
	    {"198.17.255.255", NULL},
	    {"198.20.0.0", NULL},
	    {"223.255.255.255", NULL},
	    {"0.0.0.0", "unspecified"},
	    {"0.1.2.3", "reserved"},
	    {"10.0.0.1", "private"},
	    {"100.64.0.1", "CGNAT"},
	    {"100.127.255.255", "CGNAT"},
	    {"127.0.0.1", "loopback"},
	    {"127.255.255.254", "loopback"},
	    {"169.254.169.254", "link-local"},
	    {"172.16.0.1", "private"},
	    {"172.31.255.255", "private"},
	    {"192.0.0.8", "reserved"},
	    {"192.0.2.1", "documentation"},
	    {"192.88.99.1", "reserved"},
	    {"192.168.1.1", "private"},
	    {"198.18.0.1", "benchmarking"},
	    {"198.19.255.255", "benchmarking"},
	    {"198.51.100.7", "documentation"},
	    {"203.0.113.9", "documentation"},
	    {"224.0.0.1", "multicast"},
	    {"239.255.255.250", "multicast"},
	    {"240.0.0.1", "reserved"},
	    {"255.255.255.255", "broadcast"},
	    {"2001:4860:4860::8888", NULL},
	    {"2606:4700:4700::1111", NULL},
	    {"2a00:1450:4001:82b::200e", NULL},
	    {"::ffff:8.8.8.8", NULL},
	    {"64:ff9b::808:808", NULL},
	    {"2002:808:808::1", NULL},
	    {"2001:200::1", NULL},
	    {"::", "unspecified"},
	    {"::1", "loopback"},
	    {"::ffff:127.0.0.1", "loopback"},
	    {"::ffff:10.1.2.3", "private"},
	    {"::ffff:169.254.169.254", "link-local"},
	    {"::127.0.0.1", "loopback"},
	    {"::8.8.8.8", "IPv4-compatible"},
	    {"64:ff9b::7f00:1", "loopback"},
	    {"64:ff9b::a9fe:a9fe", "link-local"},
	    {"64:ff9b:1::1", "reserved"},
	    {"2002:7f00:1::1", "loopback"},
	    {"2002:c0a8:101::1", "private"},
	    {"100::1", "discard"},
	    {"2001::1", "reserved"},
	    {"2001:2::1", "benchmarking"},
	    {"2001:db8::1", "documentation"},
	    {"3fff::1", "documentation"},
	    {"fc00::1", "unique local"},
	    {"fd12:3456::1", "unique local"},
	    {"fe80::1", "link-local"},
	    {"febf::1", "link-local"},
	    {"fec0::1", "site-local"},
	    {"ff02::1", "multicast"},
	    {"5f00::1", "reserved"},
	    {"4000::1", "reserved"},
	    {"1234::1", "reserved"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t b[16];
		int af = strchr(cases[i].ip, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(af, cases[i].ip, b), 1);
		const char *w = ctng_net_ip_special(af, b);
		if (!cases[i].what) {
			if (w)
				fail_msg("%s: public, classified \"%s\"", cases[i].ip, w);
		} else if (!w || !strstr(w, cases[i].what)) {
			fail_msg("%s: expected \"%s\", got \"%s\"", cases[i].ip, cases[i].what,
			         w ? w : "(public)");
		}
		/* the sockaddr form says the same */
		struct sockaddr_storage ss = {0};
		if (af == AF_INET) {
			((struct sockaddr_in *)&ss)->sin_family = AF_INET;
			memcpy(&((struct sockaddr_in *)&ss)->sin_addr, b, 4);
		} else {
			((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, b, 16);
		}
		assert_ptr_equal(ctng_net_sockaddr_special((struct sockaddr *)&ss), w);
	}
}

static void test_prefixes(void **state)
{
	(void)state;
	ctng_net_prefix p;
	uint8_t a[16];
	assert_int_equal(ctng_net_prefix_parse("10.0.0.0/8", &p), 0);
	inet_pton(AF_INET, "10.200.1.1", a);
	assert_true(ctng_net_prefix_contains(&p, AF_INET, a));
	inet_pton(AF_INET, "11.0.0.1", a);
	assert_false(ctng_net_prefix_contains(&p, AF_INET, a));
	assert_int_equal(ctng_net_prefix_parse("127.0.0.1/32", &p), 0);
	inet_pton(AF_INET, "127.0.0.1", a);
	assert_true(ctng_net_prefix_contains(&p, AF_INET, a));
	assert_false(ctng_net_prefix_contains(&p, AF_INET6, a)); /* family must match */
	assert_int_equal(ctng_net_prefix_parse("fd00::/8", &p), 0);
	inet_pton(AF_INET6, "fd12::1", a);
	assert_true(ctng_net_prefix_contains(&p, AF_INET6, a));
	inet_pton(AF_INET6, "fe12::1", a);
	assert_false(ctng_net_prefix_contains(&p, AF_INET6, a));
	assert_int_equal(ctng_net_prefix_parse("0.0.0.0/0", &p), 0);
	inet_pton(AF_INET, "8.8.8.8", a);
	assert_true(ctng_net_prefix_contains(&p, AF_INET, a));
	static const char *const bad[] = {"10.0.0.0",   "10.0.0.0/33", "10.0.0.0/", "x/8",
	                                  "::1/129",    "10.0.0/8",    "/8",        "10.0.0.0/-1",
	                                  "10.0.0.0/8x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ctng_net_prefix_parse(bad[i], &p) != CTNG_EINVAL)
			fail_msg("accepted %s", bad[i]);
}

/* ------------------------------------------------------------ DNS server */

/* Names the test DNS server answers (A records); others: NXDOMAIN. */
static const struct {
	const char *name;
	const char *a[2];
} zone[] = {
    {"hooks.test.example", {"127.0.0.1", NULL}},
    {"two.test.example", {"10.1.2.3", "127.0.0.1"}},
};

static int dns_queries;

static void dns_answer(struct evdns_server_request *req, void *arg)
{
	(void)arg;
	int rcode = 3; /* NXDOMAIN */
	for (int i = 0; i < req->nquestions; i++) {
		const struct evdns_server_question *q = req->questions[i];
		dns_queries++;
		for (size_t z = 0; z < sizeof zone / sizeof zone[0]; z++) {
			if (strcasecmp(q->name, zone[z].name)) /* evdns randomises the case */
				continue;
			rcode = 0;
			if (q->type != EVDNS_TYPE_A)
				continue; /* no AAAA: an empty answer */
			for (int k = 0; k < 2 && zone[z].a[k]; k++) {
				struct in_addr ia;
				inet_pton(AF_INET, zone[z].a[k], &ia);
				evdns_server_request_add_a_reply(req, q->name, 1, &ia, 60);
			}
		}
	}
	evdns_server_request_respond(req, rcode);
}

struct dns {
	evutil_socket_t fd;
	struct evdns_server_port *port;
	char addr[32];
};

static void dns_start(struct dns *d, ctng_net_loop *loop)
{
	d->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(d->fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(d->fd, (struct sockaddr *)&sin, sizeof sin), 0);
	socklen_t sl = sizeof sin;
	assert_int_equal(getsockname(d->fd, (struct sockaddr *)&sin, &sl), 0);
	evutil_make_socket_nonblocking(d->fd);
	d->port = evdns_add_server_port_with_base(ctng_net_loop_base(loop), d->fd, 0, dns_answer,
	                                          NULL);
	assert_non_null(d->port);
	snprintf(d->addr, sizeof d->addr, "127.0.0.1:%u", ntohs(sin.sin_port));
	ctng_err err = {0};
	if (ctng_net_loop_set_nameserver(loop, d->addr, &err))
		fail_msg("set_nameserver: %s", err.msg);
}

static void dns_stop(struct dns *d)
{
	evdns_close_server_port(d->port);
	close(d->fd);
}

/* ------------------------------------------------------------- requests */

static void h_hook(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_json(req, 200, json_pack("{s:s}", "got", "it"));
}

static const struct srv_route routes[] = {{"POST", "/hook", h_hook}, {NULL, NULL, NULL}};

struct result {
	ctng_net_loop *loop;
	bool done;
	int status;
	ctng_err err;
};

static void on_response(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	(void)body;
	(void)len;
	struct result *r = arg;
	r->done = true;
	r->status = status;
	if (err)
		r->err = *err;
	ctng_net_loop_stop(r->loop);
}

static int post(ctng_net_loop *loop, const char *url, bool public_only,
                const char *const *except, struct result *r)
{
	memset(r, 0, sizeof *r);
	r->loop = loop;
	ctng_err err = {0};
	ctng_net_client_opts o = {.timeout_ms = 5000,
	                          .content_type = "application/json",
	                          .public_only = public_only,
	                          .public_except = except};
	if (ctng_net_request(loop, "POST", url, "{}", 2, &o, on_response, r, &err))
		fail_msg("request %s: %s", url, err.msg);
	while (!r->done)
		assert_int_equal(ctng_net_loop_run(loop, NULL), 0);
	return r->status;
}

static void expect_refused(ctng_net_loop *loop, const char *url, const char *needle)
{
	struct result r;
	assert_int_equal(post(loop, url, true, NULL, &r), 0);
	assert_int_equal(r.err.code, CTNG_EINVAL);
	if (!strstr(r.err.msg, needle) || !strstr(r.err.msg, "public addresses only"))
		fail_msg("%s: error \"%s\" does not say \"%s\"", url, r.err.msg, needle);
}

static void test_refused_after_resolution(void **state)
{
	(void)state;
	struct srv s;
	ctng_net_server_opts so = {0};
	srv_start(&s, &so, routes, false);
	ctng_err err = {0};
	ctng_net_loop *c = ctng_net_loop_new(&err);
	assert_non_null(c);
	struct dns d;
	dns_start(&d, c);
	char url[128];
	struct result r;

	/* the name is real: without public_only it reaches the server */
	snprintf(url, sizeof url, "http://hooks.test.example:%u/hook", s.port);
	assert_int_equal(post(c, url, false, NULL, &r), 200);
	assert_true(dns_queries > 0);
	assert_int_equal(ctng_net_loop_idle_connections(c), 1);
	/* with public_only: refused after resolving, the pooled connection unused */
	expect_refused(c, url, "hooks.test.example resolves to 127.0.0.1, a loopback address");
	/* every address is checked: a private one, then a loopback one */
	snprintf(url, sizeof url, "http://two.test.example:%u/hook", s.port);
	expect_refused(c, url, "two.test.example resolves to "); /* the last one tried */
	/* IP literals and localhost are checked too */
	snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", s.port);
	expect_refused(c, url, "127.0.0.1 is a loopback address");
	snprintf(url, sizeof url, "http://localhost:%u/hook", s.port);
	expect_refused(c, url, "localhost resolves to 127.0.0.1, a loopback address");
	snprintf(url, sizeof url, "http://[::1]:%u/hook", s.port);
	expect_refused(c, url, "::1 is a loopback address");
	snprintf(url, sizeof url, "http://169.254.169.254/latest/meta-data");
	expect_refused(c, url, "169.254.169.254 is a link-local address");
	/* an excepted prefix (the operator's allow list) is let through */
	const char *except[] = {"10.0.0.0/8", "127.0.0.0/8", NULL};
	snprintf(url, sizeof url, "http://hooks.test.example:%u/hook", s.port);
	assert_int_equal(post(c, url, true, except, &r), 200);
	/* two.test.example: 10.1.2.3 is excepted too; whichever order the resolver
	 * gives, the loopback one answers */
	snprintf(url, sizeof url, "http://two.test.example:%u/hook", s.port);
	const char *only_lo[] = {"127.0.0.1/32", NULL};
	assert_int_equal(post(c, url, true, only_lo, &r), 200);
	/* a malformed exception is refused at once */
	const char *bad[] = {"127.0.0.1", NULL};
	ctng_net_client_opts o = {.public_only = true, .public_except = bad};
	assert_int_equal(ctng_net_request(c, "GET", url, NULL, 0, &o, on_response, &r, &err),
	                 CTNG_EINVAL);
	/* an unknown name is a resolver failure, not a refusal */
	snprintf(url, sizeof url, "http://nothing.test.example:%u/hook", s.port);
	assert_int_equal(post(c, url, true, NULL, &r), 0);
	assert_non_null(strstr(r.err.msg, "cannot resolve nothing.test.example"));
	dns_stop(&d);
	ctng_net_loop_free(c);
	srv_stop(&s);
	assert_int_equal(s.stats.requests, 3); /* the three allowed posts only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classifier),
	    cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_refused_after_resolution),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
