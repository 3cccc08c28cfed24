/*
 * The gc worker's eviction of a nearly full table by version
 * (analyzer/kernel.c ctp_kernel_gc_evict): absent in 4.9.159, present in
 * the 4.14 tree and in 6.1, the releases between said unknown; the
 * threshold nf_conntrack_max / 100 * 95 in the kernel's integer order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctplan/kernel.h"

static const struct {
	int major, minor, patch;
	ctp_gc_evict_known known;
} rows[] = {
	{ 3, 10, 0, CTP_GC_EVICT_NO },   { 4, 9, 159, CTP_GC_EVICT_NO },
	{ 4, 10, 0, CTP_GC_EVICT_UNKNOWN }, { 4, 13, 16, CTP_GC_EVICT_UNKNOWN },
	{ 4, 14, 0, CTP_GC_EVICT_YES },  { 5, 15, 0, CTP_GC_EVICT_YES },
	{ 6, 1, 0, CTP_GC_EVICT_YES },   { 6, 18, 44, CTP_GC_EVICT_YES },
};

static void by_version(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctp_kver v = { .major = rows[i].major,
				.minor = rows[i].minor,
				.patch = rows[i].patch };
		const ctp_gc_evict_rule *r = ctp_kernel_gc_evict(&v);
		assert_int_equal(r->known, rows[i].known);
		assert_int_equal(r->pct, 95);
		assert_non_null(r->versions);
		assert_non_null(r->source);
	}
}

static void threshold(void **state)
{
	(void)state;
	/* the division first: 262144 / 100 = 2621, x 95 = 248995 */
	assert_int_equal(ctp_kernel_gc_threshold(262144), 248995);
	assert_int_equal(ctp_kernel_gc_threshold(1000), 950);
	assert_int_equal(ctp_kernel_gc_threshold(99), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(by_version),
		cmocka_unit_test(threshold),
	};
	return cmocka_run_group_tests_name("gc_evict", tests, NULL, NULL);
}
