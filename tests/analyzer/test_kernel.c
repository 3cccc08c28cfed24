/*
 * Kernel facts by version (analyzer/kernel.c): version parsing, the hash
 * era and the chain limit of each version, at every boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/kernel.h"

#define L(s) s, sizeof(s) - 1

static const struct {
	const char *s;
	size_t len;
	int major, minor, patch;
} good[] = {
	{ L("6.1"), 6, 1, -1 },
	{ L("5.15.103"), 5, 15, 103 },
	{ L("6.1.0-18-amd64"), 6, 1, 0 },
	{ L("v6.8-rc3"), 6, 8, -1 },
	{ L("4.19.0+"), 4, 19, 0 },
	{ L("5.14.0-362.el9.x86_64"), 5, 14, 0 },
	{ L("6.18.44"), 6, 18, 44 },
	{ L("3.10"), 3, 10, -1 },
	{ L("6.5."), 6, 5, -1 },
};

static void test_parse_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ctp_kver v;
		ctp_error err = CTP_ERROR_INIT;

		assert_int_equal(ctp_kver_parse(good[i].s, good[i].len, &v,
						&err),
				 0);
		assert_int_equal(v.major, good[i].major);
		assert_int_equal(v.minor, good[i].minor);
		assert_int_equal(v.patch, good[i].patch);
	}
}

static const struct {
	const char *s;
	size_t len;
	size_t col;
} bad[] = {
	{ L(""), 1 },
	{ L("6"), 2 },
	{ L("six.one"), 1 },
	{ L("6."), 3 },
	{ L("1.2"), 1 },
	{ L("v100.2"), 2 },
	{ L("6.1234567"), 9 },
	{ L("6\0.1"), 2 },
};

static void test_parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctp_kver v;
		ctp_error err = CTP_ERROR_INIT;

		assert_int_equal(ctp_kver_parse(bad[i].s, bad[i].len, &v, &err),
				 CTP_EINPUT);
		assert_int_equal(err.col, bad[i].col);
		assert_non_null(strstr(err.msg, "cannot parse kernel version"));
	}
}

static void test_cmp_format(void **state)
{
	ctp_kver a = { 6, 1, -1 }, b = { 6, 1, 0 }, c = { 6, 1, 20 };
	char buf[32];

	(void)state;
	assert_int_equal(ctp_kver_cmp(&a, &b), 0);
	assert_true(ctp_kver_cmp(&b, &c) < 0);
	assert_true(ctp_kver_cmp(&c, &a) > 0);
	ctp_kver_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "6.1");
	ctp_kver_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "6.1.20");
}

static const struct {
	ctp_kver v;
	ctp_hash_era era;
} eras[] = {
	{ { 3, 10, 0 }, CTP_ERA_JHASH_ZONE },
	{ { 4, 2, 99 }, CTP_ERA_JHASH_ZONE },
	{ { 4, 3, 0 }, CTP_ERA_JHASH },
	{ { 4, 6, 7 }, CTP_ERA_JHASH },
	{ { 4, 7, 0 }, CTP_ERA_JHASH_NETMIX },
	{ { 4, 19, 0 }, CTP_ERA_JHASH_NETMIX },
	{ { 5, 4, 0 }, CTP_ERA_JHASH_NETMIX },
	{ { 5, 14, 21 }, CTP_ERA_JHASH_NETMIX },
	{ { 5, 15, 0 }, CTP_ERA_SIPHASH48 },
	{ { 6, 1, -1 }, CTP_ERA_SIPHASH48 },
	{ { 6, 1, 192 }, CTP_ERA_SIPHASH48 },
	{ { 6, 2, 0 }, CTP_ERA_SIPHASH_4U64 },
	{ { 6, 3, -1 }, CTP_ERA_SIPHASH_4U64 },
	{ { 6, 4, 4 }, CTP_ERA_SIPHASH_4U64 },
	{ { 6, 4, 5 }, CTP_ERA_SIPHASH39 },
	{ { 6, 5, 0 }, CTP_ERA_SIPHASH39 },
	{ { 6, 8, -1 }, CTP_ERA_SIPHASH39 },
	{ { 6, 18, 44 }, CTP_ERA_SIPHASH39 },
};

static void test_hash_era(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		const ctp_hash_era_info *info;

		assert_int_equal(ctp_kernel_hash_era(&eras[i].v), eras[i].era);
		info = ctp_kernel_hash_era_info(eras[i].era);
		assert_non_null(info);
		assert_int_equal(info->era, eras[i].era);
	}
	assert_null(ctp_kernel_hash_era_info(CTP_ERA_COUNT));
	assert_int_equal(ctp_kernel_hash_era_info(CTP_ERA_SIPHASH48)
				 ->hashed_bytes,
			 48);
	assert_int_equal(ctp_kernel_hash_era_info(CTP_ERA_SIPHASH39)
				 ->hashed_bytes,
			 39);
	assert_false(ctp_kernel_hash_era_info(CTP_ERA_JHASH)->shared_table);
	assert_true(ctp_kernel_hash_era_info(CTP_ERA_JHASH_NETMIX)
			    ->shared_table);
}

static const struct {
	ctp_kver v;
	int enabled;
	unsigned min, span;
} limits[] = {
	{ { 4, 19, 0 }, 0, 0, 0 },
	{ { 5, 14, 99 }, 0, 0, 0 },
	{ { 5, 15, 0 }, 1, 8, 24 },
	{ { 5, 15, 102 }, 1, 8, 24 },
	{ { 5, 15, 103 }, 1, 50, 30 },
	{ { 5, 15, 180 }, 1, 50, 30 },
	{ { 5, 16, 0 }, 1, 8, 24 },
	{ { 6, 0, 19 }, 1, 8, 24 },
	{ { 6, 1, 19 }, 1, 8, 24 },
	{ { 6, 1, 20 }, 1, 50, 30 },
	{ { 6, 1, 192 }, 1, 50, 30 },
	{ { 6, 2, 6 }, 1, 8, 24 },
	{ { 6, 2, 7 }, 1, 50, 30 },
	{ { 6, 3, 0 }, 1, 50, 30 },
	{ { 6, 18, 0 }, 1, 50, 30 },
};

static void test_chain_limit(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		ctp_chain_limit l;

		ctp_kernel_chain_limit(&limits[i].v, &l);
		assert_int_equal(l.enabled, limits[i].enabled);
		assert_int_equal(l.min, limits[i].min);
		assert_int_equal(l.span, limits[i].span);
		assert_non_null(l.source);
	}
}

static void test_from_info(void **state)
{
	ctp_kernel_info k;
	ctp_kver v, n = ctp_kernel_newest();

	(void)state;
	memset(&k, 0, sizeof(k));
	k.major = k.minor = k.patch = -1;
	assert_int_equal(ctp_kver_from_info(&k, &v), 0);
	assert_int_equal(ctp_kver_from_info(NULL, &v), 0);
	k.major = 6;
	k.minor = 1;
	k.patch = 0;
	assert_int_equal(ctp_kver_from_info(&k, &v), 1);
	assert_int_equal(ctp_kernel_hash_era(&v), CTP_ERA_SIPHASH48);
	assert_int_equal(ctp_kernel_hash_era(&n), CTP_ERA_SIPHASH39);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_cmp_format),
		cmocka_unit_test(test_hash_era),
		cmocka_unit_test(test_chain_limit),
		cmocka_unit_test(test_from_info),
	};

	return cmocka_run_group_tests_name("kernel", tests, NULL, NULL);
}
