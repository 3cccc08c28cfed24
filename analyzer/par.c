/*
 * Two-thread loop of par.h.  The halves are contiguous: iterations of
 * similar cost (the fills of one range) balance, and a worker's
 * iterations run in index order.
 */
#include <pthread.h>

#include "par.h"

typedef struct half {
	void (*fn)(void *ud, size_t i, unsigned worker);
	void *ud;
	size_t from, to;
	unsigned worker;
} half;

static void *run_half(void *p)
{
	const half *h = p;

	for (size_t i = h->from; i < h->to; i++)
		h->fn(h->ud, i, h->worker);
	return NULL;
}

void ctp_par_for(size_t n, void (*fn)(void *ud, size_t i, unsigned worker),
		 void *ud)
{
	half a = { fn, ud, 0, n / 2, 0 }, b = { fn, ud, n / 2, n, 1 };
	pthread_t tid;
	int started = n > 1 && !pthread_create(&tid, NULL, run_half, &b);

	if (!started) { /* one worker: all here, in order */
		a.to = n;
		run_half(&a);
		return;
	}
	run_half(&a);
	pthread_join(tid, NULL);
}
