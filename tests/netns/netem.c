/*
 * netem.c — `ctng_netem`, the link emulator of the network-namespace fault
 * tests (tests/integration/test_netns.c, docs/hacking.md §Faults). The test
 * machines' kernel has no sch_netem (no `tc qdisc ... netem`), so the
 * faults are made here, in user space, on real packets: this program opens
 * one TUN device per node (ctngNNNNt1, ...) plus one for the test harness
 * (…t0); the harness moves each node's device into that node's network
 * namespace and gives it the address 198.18.0.<i>/24 (RFC 2544's
 * benchmarking range; the harness is .254). Every IPv4 packet a node sends
 * comes out of its device here and is written to the device of the node
 * owning the destination address, after the rules of that link: dropped
 * while the link is cut (a partition), lost with a probability, held back
 * by a delay with uniform jitter (so packets are reordered), and paced by
 * a bandwidth. The harness' own link (device 0) is never impaired.
 *
 * usage: ctng_netem PREFIX N SEED
 *   creates PREFIXt0 .. PREFIXtN, prints "ready" and reads commands on
 *   stdin, one per line, each answered "ok" (or "error: ...") on stdout:
 *     link A B DELAY_MS JITTER_MS LOSS_PERMILLE RATE_KBPS
 *          both directions between nodes A and B ('*' = every node)
 *     cut A B ...   nodes A, B, ... lose every link to the other nodes
 *                   (not to each other, not to the harness)
 *     heal          every link up again
 *     stats         "sent N dropped N lost N cut N queued N"
 *     quit          (also end of input) closes the devices and exits
 * The devices exist only while this process runs: they vanish with it.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAXN      32
#define MAXQ      65536
#define PKT_MAX   65536
#define ADDR_NET  0xc6120000u /* 198.18.0.0 */
#define HARNESS_A 254

struct rule {
	unsigned delay_ms, jitter_ms, loss_pm, rate_kbps;
};

struct pkt {
	uint64_t at_us;
	int dst;
	size_t len;
	uint8_t *data;
};

static int fds[MAXN + 1];
static int n_nodes;
static struct rule rules[MAXN + 1][MAXN + 1];
static bool cut_set[MAXN + 1], cutting;
static uint64_t link_free[MAXN + 1][MAXN + 1]; /* pacing: when the link is free */
static struct pkt q[MAXQ];
static size_t nq;
static uint64_t st_sent, st_dropped, st_lost, st_cut;
static uint64_t rng;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t rnd(void) /* xorshift64* */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static int tun_open(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Device index of an IPv4 destination, -1 if not ours. */
static int dev_of(const uint8_t *p, size_t len)
{
	if (len < 20 || (p[0] >> 4) != 4)
		return -1;
	uint32_t d = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
	if ((d & 0xffffff00u) != ADDR_NET)
		return -1;
	unsigned last = d & 0xff;
	if (last == HARNESS_A)
		return 0;
	return last >= 1 && (int)last <= n_nodes ? (int)last : -1;
}

static void enqueue(int src, int dst, const uint8_t *p, size_t len, uint64_t now)
{
	uint64_t at = now;
	if (src != 0 && dst != 0) { /* the harness' link is clean */
		if (cutting && cut_set[src] != cut_set[dst]) {
			st_cut++;
			return;
		}
		const struct rule *r = &rules[src][dst];
		if (r->loss_pm && rnd() % 1000 < r->loss_pm) {
			st_lost++;
			return;
		}
		if (r->rate_kbps) {
			uint64_t tx = (uint64_t)len * 8 * 1000 / r->rate_kbps; /* µs */
			uint64_t start = link_free[src][dst] > now ? link_free[src][dst] : now;
			link_free[src][dst] = start + tx;
			at = start + tx;
		}
		int64_t d = (int64_t)r->delay_ms * 1000;
		if (r->jitter_ms)
			d += (int64_t)(rnd() % (2 * (uint64_t)r->jitter_ms * 1000 + 1)) -
			     (int64_t)r->jitter_ms * 1000;
		at += d > 0 ? (uint64_t)d : 0;
	}
	if (nq == MAXQ || !(q[nq].data = malloc(len))) {
		st_dropped++;
		return;
	}
	memcpy(q[nq].data, p, len);
	q[nq].len = len;
	q[nq].dst = dst;
	q[nq].at_us = at;
	nq++;
}

static void deliver_due(uint64_t now)
{
	for (size_t i = 0; i < nq;) {
		if (q[i].at_us > now) {
			i++;
			continue;
		}
		if (write(fds[q[i].dst], q[i].data, q[i].len) == (ssize_t)q[i].len)
			st_sent++;
		else
			st_dropped++; /* device queue full: a lost packet, TCP resends */
		free(q[i].data);
		q[i] = q[--nq];
	}
}

static int parse_node(const char *s, int *lo, int *hi)
{
	if (strcmp(s, "*") == 0) {
		*lo = 1;
		*hi = n_nodes;
		return 0;
	}
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 1 || v > n_nodes)
		return -1;
	*lo = *hi = (int)v;
	return 0;
}

static void command(char *line)
{
	char *argv[MAXN + 8];
	int argc = 0;
	for (char *t = strtok(line, " \t\n"); t && argc < MAXN + 7; t = strtok(NULL, " \t\n"))
		argv[argc++] = t;
	if (argc == 0)
		return;
	if (strcmp(argv[0], "link") == 0 && argc == 7) {
		int a0, a1, b0, b1;
		if (parse_node(argv[1], &a0, &a1) || parse_node(argv[2], &b0, &b1)) {
			printf("error: bad node\n");
			return;
		}
		struct rule r = {(unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]),
		                 (unsigned)atoi(argv[5]), (unsigned)atoi(argv[6])};
		for (int a = a0; a <= a1; a++)
			for (int b = b0; b <= b1; b++)
				if (a != b)
					rules[a][b] = rules[b][a] = r;
		printf("ok\n");
	} else if (strcmp(argv[0], "cut") == 0 && argc >= 2) {
		memset(cut_set, 0, sizeof cut_set);
		for (int i = 1; i < argc; i++) {
			int lo, hi;
			if (parse_node(argv[i], &lo, &hi)) {
				printf("error: bad node\n");
				return;
			}
			for (int k = lo; k <= hi; k++)
				cut_set[k] = true;
		}
		cutting = true;
		printf("ok\n");
	} else if (strcmp(argv[0], "heal") == 0) {
		cutting = false;
		printf("ok\n");
	} else if (strcmp(argv[0], "stats") == 0) {
		printf("sent %llu dropped %llu lost %llu cut %llu queued %zu\n",
		       (unsigned long long)st_sent, (unsigned long long)st_dropped,
		       (unsigned long long)st_lost, (unsigned long long)st_cut, nq);
	} else {
		printf("error: unknown command %s\n", argv[0]);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4 || atoi(argv[2]) < 1 || atoi(argv[2]) > MAXN) {
		fprintf(stderr, "usage: ctng_netem PREFIX N(1..%d) SEED\n", MAXN);
		return 2;
	}
	n_nodes = atoi(argv[2]);
	rng = strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ull | 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i <= n_nodes; i++) {
		char name[IFNAMSIZ];
		snprintf(name, sizeof name, "%st%d", argv[1], i);
		if ((fds[i] = tun_open(name)) < 0) {
			fprintf(stderr, "ctng_netem: cannot create TUN device %s: %s\n", name,
			        strerror(errno));
			return 1;
		}
	}
	printf("ready\n");
	struct pollfd pf[MAXN + 2];
	static uint8_t buf[PKT_MAX];
	char line[1024];
	size_t ll = 0;
	for (;;) {
		uint64_t now = now_us(), next = UINT64_MAX;
		deliver_due(now);
		for (size_t i = 0; i < nq; i++)
			if (q[i].at_us < next)
				next = q[i].at_us;
		int timeout = next == UINT64_MAX ? 1000 : (int)((next - now + 999) / 1000);
		for (int i = 0; i <= n_nodes; i++)
			pf[i] = (struct pollfd){fds[i], POLLIN, 0};
		pf[n_nodes + 1] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
		if (poll(pf, (nfds_t)n_nodes + 2, timeout) < 0 && errno != EINTR)
			return 1;
		now = now_us();
		for (int i = 0; i <= n_nodes; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			for (int k = 0; k < 64; k++) { /* a burst per device per turn */
				ssize_t n = read(fds[i], buf, sizeof buf);
				if (n <= 0)
					break;
				int d = dev_of(buf, (size_t)n);
				if (d >= 0 && d != i)
					enqueue(i, d, buf, (size_t)n, now);
			}
		}
		if (pf[n_nodes + 1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, line + ll, sizeof line - 1 - ll);
			if (n <= 0)
				break; /* the harness went away */
			ll += (size_t)n;
			line[ll] = 0;
			char *nl;
			while ((nl = strchr(line, '\n'))) {
				*nl = 0;
				if (strcmp(line, "quit") == 0)
					goto done;
				command(line);
				size_t used = (size_t)(nl - line) + 1;
				memmove(line, nl + 1, ll - used + 1);
				ll -= used;
			}
			if (ll == sizeof line - 1)
				ll = 0; /* an over-long line: dropped */
		}
	}
done:
	for (size_t i = 0; i < nq; i++)
		free(q[i].data);
	for (int i = 0; i <= n_nodes; i++)
		close(fds[i]);
	return 0;
}
