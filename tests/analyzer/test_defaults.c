/*
 * Kernel table defaults, early-drop rules and entry sizes by version
 * (analyzer/kernel.c), against the formulas of the sources: each row was
 * worked out by hand from nf_conntrack_init_start() of that generation
 * (raw = pages * 4096 / 16384 / pointer size, the rungs, the floor, the
 * rounding to whole pages of heads, max = factor x raw or rounded).
 * Rows marked "seen" are settings observed on real hosts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/kernel.h"

#define KB_GIB (1024ull * 1024)

static const struct {
	const char *kernel;
	uint64_t mem_kb; /* MemTotal */
	unsigned bits;
	const char *rule;
	uint64_t raw, buckets, max;
} rows[] = {
	/* 3.x: > 1 GiB 16384, floor 32, max 4 x raw */
	{ "3.10", 8 * KB_GIB, 64, "factor4-16k", 16384, 16384, 65536 },
	{ "3.10", 512 * 1024, 64, "factor4-16k", 4096, 4096, 16384 },
	/* 300 MB: raw 76800 pages * 4096 / 16384 / 8 = 2400 */
	{ "3.18", 307200, 64, "factor4-16k", 2400, 2560, 9600 },
	/* 8 MiB: raw 64, rounded to 512, max from raw */
	{ "3.2", 8192, 64, "factor4-16k", 64, 512, 256 },
	/* 32-bit: 4-byte heads, 1024 per page */
	{ "3.10", 256 * 1024, 32, "factor4-16k", 4096, 4096, 16384 },
	/* 4.0 - 4.6: the 4 GiB rung, max still from raw */
	{ "4.4", 8 * KB_GIB, 64, "factor4-64k", 65536, 65536, 262144 },
	{ "4.4", 307200, 64, "factor4-64k", 2400, 2560, 9600 },
	{ "4.0", 2 * KB_GIB, 64, "factor4-64k", 16384, 16384, 65536 },
	/* 4.7 - 5.14: max from the rounded size; Debian 9 (4.9) > 4 GiB:
	 * 65536 / 262144 (seen) */
	{ "4.9", 16 * KB_GIB, 64, "factor4-64k-rounded", 65536, 65536,
	  262144 },
	{ "4.19", 307200, 64, "factor4-64k-rounded", 2400, 2560, 10240 },
	/* exactly 4 GiB is not "> 4 GiB" */
	{ "5.4", 4 * KB_GIB, 64, "factor4-64k-rounded", 16384, 16384, 65536 },
	{ "5.14.21", 4 * KB_GIB + 4, 64, "factor4-64k-rounded", 65536, 65536,
	  262144 },
	/* 5.15+: 64-bit > 4 GiB 262144, > 1 GiB 65536, floor 1024, x1 */
	{ "5.15", 8 * KB_GIB, 64, "factor1-256k", 262144, 262144, 262144 },
	{ "6.1", 2 * KB_GIB, 64, "factor1-256k", 65536, 65536, 65536 },
	{ "6.1", 4 * KB_GIB, 64, "factor1-256k", 65536, 65536, 65536 },
	{ "6.1", 512 * 1024, 64, "factor1-256k", 4096, 4096, 4096 },
	/* 300 MB: 2400 rounded to 2560, max 2560 (a 6.x VM of that size
	 * shows 2560, seen) */
	{ "6.6", 307200, 64, "factor1-256k", 2400, 2560, 2560 },
	/* 64 MiB: raw 512, floor 1024 */
	{ "6.1", 65536, 64, "factor1-256k", 1024, 1024, 1024 },
	/* 32-bit > 4 GiB (PAE): no 262144 rung */
	{ "6.1", 8 * KB_GIB, 32, "factor1-256k", 65536, 65536, 65536 },
	/* this lab: 6.18.44, MemTotal 24684092 kB, sysctl 262144 / 262144
	 * (samples/lab-6.18, seen) */
	{ "6.18.44", 24684092, 64, "factor1-256k", 262144, 262144, 262144 },
};

static void test_table_default(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctp_kver v;
		ctp_table_default d;

		assert_int_equal(ctp_kver_parse(rows[i].kernel,
						strlen(rows[i].kernel), &v,
						NULL),
				 0);
		assert_int_equal(ctp_kernel_table_default(&v,
							  rows[i].mem_kb / 4,
							  4096, rows[i].bits,
							  &d),
				 0);
		assert_string_equal(d.rule->name, rows[i].rule);
		assert_int_equal(d.raw, rows[i].raw);
		assert_int_equal(d.buckets, rows[i].buckets);
		assert_int_equal(d.max, rows[i].max);
	}
}

static void test_default_bad(void **state)
{
	ctp_kver v = { 6, 1, -1 };
	ctp_table_default d;

	(void)state;
	assert_int_equal(ctp_kernel_table_default(&v, 1000, 3000, 64, &d),
			 CTP_EFAIL);
	assert_int_equal(ctp_kernel_table_default(&v, 1000, 4096, 16, &d),
			 CTP_EFAIL);
}

/* every boundary: the last version of a rule and the first of the next */
static const struct {
	ctp_kver v;
	const char *defaults, *evict;
} bounds[] = {
	{ { 3, 19, 8 }, "factor4-16k", "scan-8-nodes" },
	{ { 4, 0, 0 }, "factor4-64k", "scan-8-nodes" },
	{ { 4, 6, 7 }, "factor4-64k", "scan-8-nodes" },
	{ { 4, 7, 0 }, "factor4-64k-rounded", "one-bucket" },
	{ { 4, 8, 17 }, "factor4-64k-rounded", "one-bucket" },
	{ { 4, 9, 0 }, "factor4-64k-rounded", "8-buckets" },
	{ { 5, 14, 21 }, "factor4-64k-rounded", "8-buckets" },
	{ { 5, 15, 0 }, "factor1-256k", "8-buckets" },
	{ { 6, 18, 44 }, "factor1-256k", "8-buckets" },
};

static void test_boundaries(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		assert_string_equal(ctp_kernel_default_rule(&bounds[i].v)->name,
				    bounds[i].defaults);
		assert_string_equal(ctp_kernel_early_drop(&bounds[i].v)->name,
				    bounds[i].evict);
	}
	/* NF_CT_EVICTION_RANGE: 8 in every version read */
	assert_int_equal(ctp_kernel_early_drop(&bounds[8].v)->range, 8);
	assert_true(ctp_kernel_early_drop(&bounds[8].v)->evicts_all);
	assert_int_equal(ctp_kernel_early_drop(&bounds[4].v)->range, 1);
}

static void test_sizes(void **state)
{
	ctp_kver v618 = { 6, 18, 44 }, v510 = { 5, 10, -1 };
	const ctp_conn_size *c = ctp_kernel_conn_size(&v618);

	(void)state;
	/* pahole on this lab's BTF and /proc/slabinfo */
	assert_int_equal(c->struct_bytes, 248);
	assert_int_equal(c->slab_bytes, 256);
	assert_true(c->measured);
	assert_false(ctp_kernel_conn_size(&v510)->measured);
	assert_int_equal(CTP_BUCKET_HEAD_BYTES, 8);
	assert_int_equal(ctp_kernel_ext_bytes(&v618, 0), 0);
	/* 16 + 32: the 128-byte prealloc */
	assert_int_equal(ctp_kernel_ext_bytes(&v618, CTP_EXT_ECACHE), 128);
	/* 16 + 32 + 8 + 32 + 16 + 16 = 120 */
	assert_int_equal(ctp_kernel_ext_bytes(&v618, CTP_EXT_ECACHE |
						     CTP_EXT_NAT |
						     CTP_EXT_ACCT |
						     CTP_EXT_TSTAMP |
						     CTP_EXT_LABELS),
			 128);
	/* + helper 56 = 176: kmalloc-192 */
	assert_int_equal(ctp_kernel_ext_bytes(&v618, CTP_EXT_ECACHE |
						     CTP_EXT_NAT |
						     CTP_EXT_ACCT |
						     CTP_EXT_TSTAMP |
						     CTP_EXT_LABELS |
						     CTP_EXT_HELPER),
			 192);
	/* synproxy 12 is padded to 16 only when something follows; as
	 * the last: 16 + 12 = 28 -> 128 */
	assert_int_equal(ctp_kernel_ext_bytes(&v618, CTP_EXT_SYNPROXY), 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_default),
		cmocka_unit_test(test_default_bad),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests_name("analyzer/defaults", tests, NULL,
					   NULL);
}
