/*
 * The snapshot's compact flow store (issue 8): flows are kept as 48-byte
 * records, addresses inline when they fit in 4 bytes each and on the side
 * otherwise.  Every flow must come back from ctp_snapshot_flow_get()
 * byte for byte as it was added, whatever its family says: an IPv6 flow
 * whose addresses end in zeros is stored inline, an "IPv4" flow with a
 * stray byte past the fourth goes to the side, and the reports read
 * those bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/flow.h"
#include "ctplan/snapshot.h"

#define NFLOWS 20000
#define NINPUTS 3

/* a small LCG: the test must not depend on the libc's rand() */
static uint32_t next(uint64_t *st)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*st >> 33);
}

static void fill_addr(uint64_t *st, uint8_t a[16], int kind)
{
	memset(a, 0, 16);
	for (int k = 0; k < 4; k++)
		a[k] = (uint8_t)next(st);
	switch (kind) {
	case 1: /* IPv6, every byte */
		for (int k = 4; k < 16; k++)
			a[k] = (uint8_t)next(st);
		break;
	case 2: /* one stray byte past the fourth */
		a[4 + next(st) % 12] = (uint8_t)(next(st) | 1);
		break;
	default: /* fits in 4 bytes (IPv4, or IPv6 like 2001:db8::) */
		break;
	}
}

static void make_flow(uint64_t *st, ctp_flow *f)
{
	static const uint8_t families[] = { CTP_AF_INET, CTP_AF_INET6, 0, 7 };
	uint8_t *a[4] = { f->orig.src, f->orig.dst, f->reply.src,
			  f->reply.dst };
	uint32_t shape = next(st) % 8;

	memset(f, 0, sizeof(*f));
	for (int k = 0; k < 4; k++) {
		int kind = 0;

		if (shape == 1)
			kind = 1;
		else if (shape == 2 && k == (int)(next(st) % 4))
			kind = 2;
		fill_addr(st, a[k], kind);
	}
	f->orig.sport = (uint16_t)next(st);
	f->orig.dport = (uint16_t)next(st);
	f->reply.sport = (uint16_t)next(st);
	f->reply.dport = (uint16_t)next(st);
	f->timeout = next(st);
	f->mark = next(st);
	f->extra = next(st); /* ignored by add_flow */
	f->flags = (uint16_t)(next(st) & 0x0fff & ~CTP_F_DUP);
	f->zone = (uint16_t)next(st);
	f->input = (uint16_t)(next(st) % NINPUTS);
	f->use = (uint16_t)next(st);
	f->family = families[next(st) % 4];
	f->proto = (uint8_t)next(st);
	f->state = (uint8_t)(next(st) % CTP_STATE_COUNT);
	f->event = (uint8_t)(next(st) % 4);
}

static void test_round_trip(void **state)
{
	ctp_flow *want = calloc(NFLOWS, sizeof(*want));
	ctp_snapshot *s;
	uint64_t st = 1;
	uint32_t extras = 0;

	(void)state;
	assert_non_null(want);
	assert_int_equal(ctp_snapshot_new(&s), 0);
	for (int i = 0; i < NINPUTS; i++) {
		uint16_t in;

		assert_int_equal(ctp_snapshot_add_input(s, "t", NULL, &in), 0);
	}
	for (size_t i = 0; i < NFLOWS; i++) {
		ctp_flow_extra x;
		int with_extra = next(&st) % 3 == 0;

		make_flow(&st, &want[i]);
		memset(&x, 0, sizeof(x));
		x.present = CTP_X_ID;
		x.id = (uint32_t)i;
		assert_int_equal(ctp_snapshot_add_flow(s, &want[i],
						       with_extra ? &x : NULL),
				 0);
		want[i].extra = with_extra ? extras++ : CTP_NO_EXTRA;
	}
	assert_int_equal(ctp_snapshot_flow_count(s), NFLOWS);
	for (size_t i = 0; i < NFLOWS; i++) {
		const ctp_flow_extra *x;
		ctp_flow got;

		memset(&got, 0xa5, sizeof(got));
		ctp_snapshot_flow_get(s, i, &got);
		assert_memory_equal(&got, &want[i], sizeof(got));
		assert_int_equal(ctp_snapshot_flow_flags(s, i), want[i].flags);
		assert_int_equal(ctp_snapshot_flow_input(s, i), want[i].input);
		x = ctp_snapshot_extra(s, &got);
		if (want[i].extra == CTP_NO_EXTRA) {
			assert_null(x);
		} else {
			assert_non_null(x);
			assert_int_equal(x->id, i);
		}
	}
	ctp_snapshot_free(s);
	free(want);
}

/* The snapshot's own flag bit is not taken from a parser's flow. */
static void test_reserved_flag(void **state)
{
	ctp_snapshot *s;
	ctp_flow f;
	uint16_t in;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "t", NULL, &in), 0);
	memset(&f, 0, sizeof(f));
	f.family = CTP_AF_INET;
	f.flags = CTP_F_SNAPSHOT;
	assert_int_not_equal(ctp_snapshot_add_flow(s, &f, NULL), 0);
	assert_int_equal(ctp_snapshot_flow_count(s), 0);
	assert_int_equal(ctp_snapshot_input(s, 0)->flows, 0);
	ctp_snapshot_free(s);
}

/*
 * Dedup reads the original tuple from either form: the same IPv6 flow in
 * two inputs is one entry, and two flows that differ only in a byte past
 * the fourth of an address (one inline, one on the side) are two.
 */
static void test_dedup_forms(void **state)
{
	ctp_snapshot *s;
	ctp_flow v6, a, b;
	uint16_t in[2];

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "a", NULL, &in[0]), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "b", NULL, &in[1]), 0);
	memset(&v6, 0, sizeof(v6));
	v6.family = CTP_AF_INET6;
	v6.proto = CTP_P_TCP;
	for (int k = 0; k < 16; k++) {
		v6.orig.src[k] = (uint8_t)(0x20 + k);
		v6.orig.dst[k] = (uint8_t)(0x40 + k);
	}
	memcpy(v6.reply.src, v6.orig.dst, 16);
	memcpy(v6.reply.dst, v6.orig.src, 16);
	v6.orig.sport = v6.reply.dport = 40000;
	v6.orig.dport = v6.reply.sport = 443;
	memset(&a, 0, sizeof(a));
	a.family = CTP_AF_INET;
	a.proto = CTP_P_UDP;
	memcpy(a.orig.src, "\x0a\x00\x00\x01", 4);
	memcpy(a.orig.dst, "\x0a\x00\x00\x02", 4);
	memcpy(a.reply.src, a.orig.dst, 16);
	memcpy(a.reply.dst, a.orig.src, 16);
	b = a;
	b.orig.dst[15] = 1;
	for (int i = 0; i < 2; i++) {
		v6.input = a.input = b.input = in[i];
		assert_int_equal(ctp_snapshot_add_flow(s, &v6, NULL), 0);
		assert_int_equal(ctp_snapshot_add_flow(s, &a, NULL), 0);
		if (i == 0)
			assert_int_equal(ctp_snapshot_add_flow(s, &b, NULL), 0);
	}
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	/* input 0: v6, a, b; input 1: v6, a */
	assert_false(ctp_snapshot_flow_flags(s, 0) & CTP_F_DUP);
	assert_false(ctp_snapshot_flow_flags(s, 1) & CTP_F_DUP);
	assert_false(ctp_snapshot_flow_flags(s, 2) & CTP_F_DUP);
	assert_true(ctp_snapshot_flow_flags(s, 3) & CTP_F_DUP);
	assert_true(ctp_snapshot_flow_flags(s, 4) & CTP_F_DUP);
	assert_int_equal(ctp_snapshot_input(s, 1)->duplicates, 2);
	ctp_snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reserved_flag),
		cmocka_unit_test(test_dedup_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
