/*
 * queue.c — the event queue of the simulation: a binary min-heap ordered by
 * (time, insertion number), so events at the same instant run in the order
 * they were scheduled and every run is the same.
 */
#include <stdlib.h>

#include "sim/sim_internal.h"

static bool before(const sim_event *a, const sim_event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

int sim_queue_push(sim_queue *q, uint64_t t, sim_ev_kind k, size_t node, uint64_t arg, void *p)
{
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 1024;
		sim_event *v = realloc(q->v, nc * sizeof(*v));
		if (!v)
			return CTNG_ENOMEM;
		q->v = v;
		q->cap = nc;
	}
	sim_event e = {t, q->seq++, k, node, arg, p};
	size_t i = q->n++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!before(&e, &q->v[up]))
			break;
		q->v[i] = q->v[up];
		i = up;
	}
	q->v[i] = e;
	return 0;
}

bool sim_queue_pop(sim_queue *q, sim_event *out)
{
	if (q->n == 0)
		return false;
	*out = q->v[0];
	sim_event last = q->v[--q->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(&q->v[c + 1], &q->v[c]))
			c++;
		if (!before(&q->v[c], &last))
			break;
		q->v[i] = q->v[c];
		i = c;
	}
	if (q->n)
		q->v[i] = last;
	return true;
}

void sim_queue_free(sim_queue *q)
{
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
}
