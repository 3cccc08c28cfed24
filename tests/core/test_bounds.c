/*
 * The snapshot against hostile sizes (issue 9: time and memory bounded on
 * any input).
 *
 * The settings store (sysctl keys, meminfo): inserting into one sorted
 * array moved half of it per key, so 1M keys in random order took 90 s.
 * Rows: how many keys, in what order, how often each is set; the store
 * must hold each key once, sorted, with its last value, whether read
 * between the sets or only at the end, and fast.
 *
 * Finalize: one entry repeated in two inputs looked up its group once per
 * copy (100k copies took 10 s), and namespace labels were compared
 * pairwise; adding an input reallocated the counters every time (under
 * ASan, 20000 inputs took 30 s).  Rows: inputs, copies per input,
 * labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ctplan/flow.h"
#include "ctplan/snapshot.h"

enum { ORDER_SORTED, ORDER_REVERSE, ORDER_RANDOM };

typedef struct row {
	const char *name;
	size_t keys;
	int order;
	int sets;       /* times each key is set (values 0..sets-1) */
	size_t read_every; /* look a key up after this many sets; 0 never */
} row;

static const row rows[] = {
	{ "sorted, as sysctl -a prints", 100000, ORDER_SORTED, 1, 0 },
	{ "reverse order", 100000, ORDER_REVERSE, 1, 0 },
	{ "random order", 200000, ORDER_RANDOM, 1, 0 },
	{ "random, every key set three times", 50000, ORDER_RANDOM, 3, 0 },
	{ "random, read between sets", 50000, ORDER_RANDOM, 2, 97 },
	{ "a few keys", 5, ORDER_RANDOM, 4, 1 },
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void key_name(char *buf, size_t size, size_t i)
{
	snprintf(buf, size, "net.k.%08zu", i);
}

static void run_row(const row *r)
{
	ctp_snapshot *snap;
	size_t n = r->keys * (size_t)r->sets;
	size_t *order = malloc(n * sizeof(*order));
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char key[64], val[32], prev[64] = "";
	clock_t t0 = clock();
	double secs;

	print_message("  %s\n", r->name);
	assert_non_null(order);
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	/* set number s of key k is order[s * keys + k'] */
	for (int s = 0; s < r->sets; s++)
		for (size_t i = 0; i < r->keys; i++)
			order[(size_t)s * r->keys + i] =
				r->order == ORDER_REVERSE ? r->keys - 1 - i : i;
	if (r->order == ORDER_RANDOM)
		for (int s = 0; s < r->sets; s++) {
			size_t *o = order + (size_t)s * r->keys;
			for (size_t i = r->keys - 1; i > 0; i--) {
				size_t j = rnd(&seed) % (i + 1), t = o[i];
				o[i] = o[j];
				o[j] = t;
			}
		}
	for (size_t i = 0; i < n; i++) {
		int len;
		key_name(key, sizeof(key), order[i]);
		len = snprintf(val, sizeof(val), "%zu", i / r->keys);
		assert_int_equal(ctp_snapshot_set_sysctl(snap, key, strlen(key),
							 val, (size_t)len),
				 0);
		assert_int_equal(ctp_snapshot_set_meminfo(snap, key,
							  strlen(key),
							  i / r->keys),
				 0);
		if (r->read_every && i % r->read_every == 0) {
			const char *v = ctp_snapshot_sysctl(snap, key);
			assert_non_null(v);
			assert_string_equal(v, val);
		}
	}
	/* the sysctls one by one are the finalized view */
	assert_int_equal(ctp_snapshot_finalize(snap), 0);
	assert_int_equal(ctp_snapshot_sysctl_count(snap), r->keys);
	for (size_t i = 0; i < r->keys; i++) {
		const char *v, *k = ctp_snapshot_sysctl_at(snap, i, &v);
		uint64_t m;
		assert_non_null(k);
		assert_true(strcmp(prev, k) < 0); /* sorted, each once */
		snprintf(prev, sizeof(prev), "%s", k);
		assert_int_equal(atoi(v), r->sets - 1); /* the last set wins */
		assert_int_equal(ctp_snapshot_meminfo(snap, k, &m), 1);
		assert_int_equal(m, (uint64_t)(r->sets - 1));
	}
	key_name(key, sizeof(key), r->keys);
	assert_null(ctp_snapshot_sysctl(snap, key));
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("    %.2f s CPU\n", secs);
	/* the sorted-array insert took minutes here (more under ASan), the
	 * merge well under a second: the time is printed, not asserted
	 * (speed targets are bench/'s); a return of the quadratic insert
	 * runs into the test's ctest TIMEOUT (tests/CMakeLists.txt) */
	ctp_snapshot_finalize(snap);
	ctp_snapshot_free(snap);
	free(order);
}

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}

typedef struct dup_row {
	const char *name;
	size_t inputs, copies; /* copies of one entry in each input */
	size_t labels;         /* input i has label i % labels */
} dup_row;

static const dup_row dup_rows[] = {
	{ "two inputs, 200k copies each", 2, 200000, 1 },
	{ "3 inputs, one label each", 3, 1000, 3 },
	/* (the overlap matrix is inputs x inputs bytes: 25 MB here) */
	{ "5000 inputs, 7 labels", 5000, 1, 7 },
	{ "5000 inputs, a label each", 5000, 1, 5000 },
};

static void run_dup_row(const dup_row *r)
{
	ctp_snapshot *snap;
	ctp_flow f;
	clock_t t0 = clock();
	double secs;
	uint64_t dups = 0, kept_in_0 = 0;

	print_message("  %s\n", r->name);
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	memset(&f, 0, sizeof(f));
	f.family = CTP_AF_INET;
	f.proto = 6;
	f.orig.src[0] = 198;
	f.orig.src[1] = 18;
	f.orig.dst[0] = 203;
	f.orig.sport = 40000;
	f.orig.dport = 80;
	f.reply = f.orig;
	for (size_t i = 0; i < r->inputs; i++) {
		char path[32], ns[32];
		uint16_t in;

		snprintf(path, sizeof(path), "in%zu", i);
		snprintf(ns, sizeof(ns), "ns%zu", i % r->labels);
		assert_int_equal(ctp_snapshot_add_input(snap, path,
							r->labels > 1 ? ns
								      : NULL,
							&in),
				 0);
		f.input = in;
		for (size_t k = 0; k < r->copies; k++)
			assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL),
					 0);
	}
	assert_int_equal(ctp_snapshot_finalize(snap), 0);
	for (size_t i = 0; i < ctp_snapshot_flow_count(snap); i++) {
		uint16_t fl = ctp_snapshot_flow_flags(snap, i);

		dups += (fl & CTP_F_DUP) != 0;
		kept_in_0 += ctp_snapshot_flow_input(snap, i) == 0 &&
			     !(fl & CTP_F_DUP);
	}
	/* per label, the earliest input's copies are kept (a tie) */
	{
		size_t labels = r->labels < r->inputs ? r->labels : r->inputs;
		assert_int_equal(dups, (r->inputs - labels) * r->copies);
	}
	assert_int_equal(kept_in_0, r->copies);
	/* inputs of different labels never overlap */
	if (r->inputs > 1)
		assert_int_equal(ctp_snapshot_inputs_overlap(snap, 0, 1),
				 r->labels == 1);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("    %.2f s CPU (not asserted; see run_row)\n", secs);
	ctp_snapshot_free(snap);
}

static void test_dup_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dup_rows) / sizeof(dup_rows[0]); i++)
		run_dup_row(&dup_rows[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_dup_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
