/*
 * The exact set of 64-bit values of fpset.h: ordered linear probing in
 * one large sorted table.  Apart from the pool that fills it (this was
 * part of analyzer/hash.c) because it is a data structure with its own
 * invariants (every cluster sorted, 0 for empty, the slack's last slot
 * empty), and it holds for any 64-bit values.
 */
#include <stdint.h>
#include <string.h>

#include "bigmem.h"
#include "fpset.h"

void ctp_fpset_release(fpset *s)
{
	ctp_big_free(s->slot, (s->n + FP_SLACK) * sizeof(*s->slot));
	s->slot = NULL;
}

/* Make the table n home slots (at least used / FP_LOAD_MAX), keeping
 * its values: in order, each at its home or just after the one
 * before. */
int ctp_fpset_resize(fpset *s, size_t n)
{
	fpset t = { NULL, n, 0 };
	size_t at = 0;

	if (n < 1024)
		n = t.n = 1024;
	/* fp_home() scales by a 32-bit n: 3.4G values at most */
	if (n > UINT32_MAX - FP_SLACK)
		n = t.n = UINT32_MAX - FP_SLACK;
	if (s->used >= n)
		return -1;
	t.slot = ctp_big_zalloc((n + FP_SLACK) * sizeof(*t.slot));
	if (!t.slot)
		return -1;
	for (size_t i = 0; s->slot && i < s->n + FP_SLACK; i++) {
		size_t h;

		if (!s->slot[i])
			continue;
		h = fp_home(&t, s->slot[i]);
		at = h > at ? h : at;
		if (at + 1 >= n + FP_SLACK) { /* no room: larger */
			ctp_big_free(t.slot, (n + FP_SLACK) * sizeof(*t.slot));
			if (n >= UINT32_MAX - FP_SLACK)
				return -1;
			return ctp_fpset_resize(s, n + n / 4);
		}
		t.slot[at++] = s->slot[i];
		t.used++;
	}
	ctp_fpset_release(s);
	*s = t;
	return 0;
}

/* 1 if added, 0 if present, -1 on out of memory */
int ctp_fpset_add(fpset *s, uint64_t v)
{
	size_t p, q;

	v |= 1; /* never 0; halves nothing that matters at 2^-63 */
	if ((!s->slot || ((double)(s->used + 1) > FP_LOAD_MAX * (double)s->n &&
			  s->n < UINT32_MAX - FP_SLACK)) &&
	    ctp_fpset_resize(s, (size_t)((double)(s->used + 1) / FP_LOAD) + 1))
		return -1;
	for (;;) {
		for (p = fp_home(s, v); s->slot[p] && s->slot[p] < v; p++)
			;
		if (s->slot[p] == v)
			return 0;
		for (q = p; s->slot[q]; q++)
			;
		if (q + 1 < s->n + FP_SLACK)
			break;
		/* the end of the slack: a larger table */
		if (ctp_fpset_resize(s, s->n + s->n / 4))
			return -1;
	}
	memmove(&s->slot[p + 1], &s->slot[p], (q - p) * sizeof(*s->slot));
	s->slot[p] = v;
	s->used++;
	return 1;
}

/* Room for add more values within FP_LOAD_MAX: 0, or -1 on out of
 * memory. */
int ctp_fpset_room(fpset *s, size_t add)
{
	double want = (double)(s->used + add);

	if (want <= FP_LOAD_MAX * (double)s->n)
		return 0;
	return ctp_fpset_resize(s, (size_t)(want / FP_LOAD) + 1);
}
