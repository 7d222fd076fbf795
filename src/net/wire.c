/*
 * wire.c — bytes on the wire of a process's TCP connections (TLS records
 * and HTTP heads included, unlike the bodies the daemons count), from the
 * kernel's TCP_INFO: every connection adds its totals when it closes, and
 * ctng_net_wire_bytes adds those of a loop's open connections. This is how
 * `ctng bench network` compares gossip over HTTPS with plain HTTP.
 */
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "net_internal.h"

static _Atomic uint64_t closed_in, closed_out;

bool ctng_net_wire_read_(evutil_socket_t fd, uint64_t *in, uint64_t *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return false;
	*in += ti.tcpi_bytes_received;
	*out += ti.tcpi_bytes_acked;
	return true;
}

void ctng_net_wire_closing_(evutil_socket_t fd)
{
	uint64_t in = 0, out = 0;
	if (ctng_net_wire_read_(fd, &in, &out)) {
		atomic_fetch_add(&closed_in, in);
		atomic_fetch_add(&closed_out, out);
	}
}

void ctng_net_wire_bytes(const ctng_net_loop *loop, uint64_t *in, uint64_t *out)
{
	*in = atomic_load(&closed_in);
	*out = atomic_load(&closed_out);
	if (!loop)
		return;
	for (const struct ctng_net_server *s = loop->servers; s; s = s->next_on_loop)
		ctng_net_conn_wire_open_(s, in, out);
	ctng_net_client_wire_open_(loop, in, out);
}
