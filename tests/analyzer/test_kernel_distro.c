/*
 * Distribution kernels by release string (analyzer/kernel.c
 * ctp_kernel_identify, docs/kernels.md): each string gives its vendor,
 * the upstream version modelled, whether that is exact, and through it
 * the facts the models read (hash era, chain limit, defaults rule, NAT
 * search).  Then the series rule for a version without a patch level,
 * and the settings each kernel takes (ctp_kernel_apply_rule).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/kernel.h"

/* refuse_from: the chain a new flow may be refused in (min + slack),
 * 0 for no limit; factor: the default rule's max = factor x buckets */
static const struct {
	const char *release;
	int hint;            /* uname -v's upstream patch, -1 none */
	const char *vendor;
	int major, minor, patch;
	int exact;
	ctp_hash_era era;
	unsigned refuse_from;
	unsigned factor;
	ctp_nat_era nat;
} rows[] = {
	/* Debian: ABI -> upstream from uname -v of public logs */
	{ "6.1.0-28-amd64", -1, "Debian", 6, 1, 119, 1, CTP_ERA_SIPHASH48,
	  52, 1, CTP_NAT_BOUNDED },
	{ "6.1.0-18-cloud-amd64", -1, "Debian", 6, 1, 76, 1,
	  CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	/* uname -v "Debian 6.1.90-1" wins over the table */
	{ "6.1.0-21-amd64", 90, "Debian", 6, 1, 90, 1, CTP_ERA_SIPHASH48,
	  52, 1, CTP_NAT_BOUNDED },
	/* 4.19.0-18 = 4.19.208, before the 4.19.228 bounded NAT search;
	 * -19 = 4.19.232, after it */
	{ "4.19.0-18-amd64", -1, "Debian", 4, 19, 208, 1,
	  CTP_ERA_JHASH_NETMIX, 0, 4, CTP_NAT_ROVER },
	{ "4.19.0-19-amd64", -1, "Debian", 4, 19, 232, 1,
	  CTP_ERA_JHASH_NETMIX, 0, 4, CTP_NAT_BOUNDED },
	/* Ubuntu: /proc/version_signature; -78 = 5.15.99 (8..31), -79 =
	 * 5.15.111 and -125 (>= -100 = 5.15.143) carry 50..79 */
	{ "5.15.0-78-generic", -1, "Ubuntu", 5, 15, 99, 1,
	  CTP_ERA_SIPHASH48, 10, 1, CTP_NAT_BOUNDED },
	{ "5.15.0-79-generic", -1, "Ubuntu", 5, 15, 111, 1,
	  CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	{ "5.15.0-125-generic", -1, "Ubuntu", 5, 15, 143, 1,
	  CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	{ "5.4.0-150-generic", -1, "Ubuntu", 5, 4, 218, 1,
	  CTP_ERA_JHASH_NETMIX, 0, 4, CTP_NAT_BOUNDED },
	{ "6.8.0-45-generic", -1, "Ubuntu", 6, 8, 12, 1, CTP_ERA_SIPHASH39,
	  52, 1, CTP_NAT_BOUNDED_EVICT },
	/* a cloud kernel numbers its own builds: the series assumed */
	{ "5.15.0-1051-aws", -1, "Ubuntu", 5, 15, 103, 0,
	  CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	/* RHEL 9 is not upstream 5.14: the 5.15 rework backported */
	{ "5.14.0-362.8.1.el9_3.x86_64", -1, "RHEL 9", 5, 15, 103, 0,
	  CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	{ "4.18.0-513.24.1.el8_9.x86_64", -1, "RHEL 8", 4, 18, 0, 0,
	  CTP_ERA_JHASH_NETMIX, 0, 4, CTP_NAT_ROVER },
	{ "3.10.0-1160.el7.x86_64", -1, "RHEL 7", 3, 10, 0, 0,
	  CTP_ERA_JHASH_ZONE, 0, 4, CTP_NAT_ROVER },
	/* Amazon Linux, COS, Flatcar, Bottlerocket: upstream numbers */
	{ "5.10.215-203.850.amzn2.x86_64", -1, "Amazon Linux 2", 5, 10, 215,
	  1, CTP_ERA_JHASH_NETMIX, 0, 4, CTP_NAT_BOUNDED },
	{ "4.14.336-257.562.amzn2.x86_64", -1, "Amazon Linux 2", 4, 14, 336,
	  1, CTP_ERA_JHASH_NETMIX, 0, 4, CTP_NAT_BOUNDED },
	{ "6.1.102-111.182.amzn2023.x86_64", -1, "Amazon Linux 2023", 6, 1,
	  102, 1, CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	{ "5.15.120+", -1, "Container-Optimized OS", 5, 15, 120, 1,
	  CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	{ "6.1.58+", -1, "Container-Optimized OS", 6, 1, 58, 1,
	  CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	{ "6.6.60-flatcar", -1, "Flatcar", 6, 6, 60, 1, CTP_ERA_SIPHASH39,
	  52, 1, CTP_NAT_BOUNDED_EVICT },
	{ "6.1.90", -1, "upstream", 6, 1, 90, 1, CTP_ERA_SIPHASH48, 52, 1,
	  CTP_NAT_BOUNDED },
	/* SUSE: base version, backports not verified */
	{ "5.14.21-150500.55.65-default", -1, "SUSE", 5, 14, 21, 0,
	  CTP_ERA_JHASH_NETMIX, 0, 4, CTP_NAT_BOUNDED },
	{ "6.4.0-150600.23.25-default", -1, "SUSE", 6, 4, 0, 0,
	  CTP_ERA_SIPHASH_4U64, 52, 1, CTP_NAT_BOUNDED },
	/* Oracle UEK7 follows 5.15 stable: the series assumed */
	{ "5.15.0-200.131.27.el9uek.x86_64", -1, "Oracle UEK", 5, 15, 103,
	  0, CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	/* an ABI-numbered build of an unknown vendor: assumed, said */
	{ "6.1.0-77-custom", -1, "unknown vendor", 6, 1, 20, 0,
	  CTP_ERA_SIPHASH48, 52, 1, CTP_NAT_BOUNDED },
	/* no patch level: every stable change of the series modelled */
	{ "6.1", -1, "upstream", 6, 1, 20, 0, CTP_ERA_SIPHASH48, 52, 1,
	  CTP_NAT_BOUNDED },
	{ "5.15", -1, "upstream", 5, 15, 103, 0, CTP_ERA_SIPHASH48, 52, 1,
	  CTP_NAT_BOUNDED },
	{ "6.4", -1, "upstream", 6, 4, 5, 0, CTP_ERA_SIPHASH39, 52, 1,
	  CTP_NAT_BOUNDED },
	{ "4.9", -1, "upstream", 4, 9, 300, 0, CTP_ERA_JHASH_NETMIX, 0, 4,
	  CTP_NAT_BOUNDED },
};

static void test_distro_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctp_kernel_id id;
		ctp_error err = CTP_ERROR_INIT;
		ctp_chain_limit l;

		print_message("%s\n", rows[i].release);
		assert_int_equal(ctp_kernel_identify(rows[i].release,
						     strlen(rows[i].release),
						     rows[i].hint, &id, &err),
				 0);
		assert_string_equal(id.release, rows[i].release);
		assert_non_null(strstr(id.vendor, rows[i].vendor));
		assert_int_equal(id.upstream.major, rows[i].major);
		assert_int_equal(id.upstream.minor, rows[i].minor);
		assert_int_equal(id.upstream.patch, rows[i].patch);
		assert_int_equal(id.exact, rows[i].exact);
		/* an assumption is always said */
		if (!rows[i].exact)
			assert_true(strlen(id.note) > 0);
		assert_non_null(id.source);
		assert_int_equal(ctp_kernel_hash_era(&id.upstream),
				 rows[i].era);
		ctp_kernel_chain_limit(&id.upstream, &l);
		assert_int_equal(l.enabled ? l.min + CTP_CHAIN_SLACK : 0,
				 rows[i].refuse_from);
		assert_int_equal(ctp_kernel_default_rule(&id.upstream)->factor,
				 rows[i].factor);
		{
			ctp_nat_algo n;

			ctp_kernel_nat_algo(&id.upstream, &n);
			assert_int_equal(n.era, rows[i].nat);
		}
	}
}

/* The series rule reads the tables' own stable boundaries */
static void test_series_patch(void **state)
{
	(void)state;
	assert_int_equal(ctp_kernel_series_patch(6, 1), 20);
	assert_int_equal(ctp_kernel_series_patch(5, 15), 103);
	assert_int_equal(ctp_kernel_series_patch(6, 2), 7);
	assert_int_equal(ctp_kernel_series_patch(6, 4), 5);
	assert_int_equal(ctp_kernel_series_patch(4, 19), 228);
	assert_int_equal(ctp_kernel_series_patch(6, 8), 0);
	assert_int_equal(ctp_kernel_series_patch(5, 4), 0);
}

/* a string that is no version is an error naming it, as --kernel's */
static void test_bad(void **state)
{
	ctp_kernel_id id;
	ctp_error err = CTP_ERROR_INIT;

	(void)state;
	assert_int_equal(ctp_kernel_identify("generic", 7, -1, &id, &err),
			 CTP_EINPUT);
	assert_non_null(strstr(err.msg, "generic"));
}

/* The settings each version takes, from nf_conntrack_standalone.c:
 * 3.10.108 buckets 0444 (proc_dointvec), 4.9.337 - 6.8.0 0644 with
 * nf_conntrack_hash_sysctl, read-only outside init_net. */
static void test_apply_rule(void **state)
{
	static const struct {
		ctp_kver v;
		int buckets_sysctl, netns_ro;
	} r[] = {
		{ { 3, 10, 108 }, 0, 0 }, { { 4, 8, 0 }, 0, 0 },
		{ { 4, 9, 337 }, 1, 1 },  { { 5, 4, 286 }, 1, 1 },
		{ { 5, 15, 100 }, 1, 1 }, { { 6, 8, 0 }, 1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		const ctp_apply_rule *a = ctp_kernel_apply_rule(&r[i].v);

		assert_int_equal(a->buckets_sysctl, r[i].buckets_sysctl);
		assert_int_equal(a->netns_read_only, r[i].netns_ro);
		assert_non_null(a->source);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distro_rows),
		cmocka_unit_test(test_series_patch),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_apply_rule),
	};

	return cmocka_run_group_tests_name("kernel_distro", tests, NULL, NULL);
}
