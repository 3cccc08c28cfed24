/*
 * The snapshot's lookups (core/snapshot.c): settings in any order with
 * the later value winning, numbers read strictly, the count, counters
 * summed over CPU rows from the first input that has them, meminfo, the
 * kernel, inputs, and the copies finalize() marks across inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/flow.h"
#include "ctplan/parse.h"
#include "ctplan/snapshot.h"

static void set(ctp_snapshot *s, const char *k, const char *v)
{
	assert_int_equal(
		ctp_snapshot_set_sysctl(s, k, strlen(k), v, strlen(v)), 0);
}

static void parse(ctp_snapshot *s, const char *name, const char *text)
{
	ctp_parse_opts po = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;

	assert_int_equal(
		ctp_parse_buffer(s, name, text, strlen(text), &po, &err), 0);
}

static void test_sysctl(void **state)
{
	ctp_snapshot *s;
	char key[32], val[32];
	const char *v;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_null(ctp_snapshot_sysctl(s, "a"));
	assert_int_equal(ctp_snapshot_sysctl_count(s), 0);
	assert_null(ctp_snapshot_sysctl_at(s, 0, &v));
	/* 200 keys in descending order: the unsorted tail is merged as it
	 * grows and before every read; a key set again wins, whether it
	 * was merged already or not */
	for (int i = 199; i >= 0; i--) {
		snprintf(key, sizeof(key), "k.%03d", i);
		snprintf(val, sizeof(val), "%d", i);
		set(s, key, val);
		if (i == 150)
			assert_string_equal(ctp_snapshot_sysctl(s, "k.199"),
					    "199");
	}
	set(s, "k.199", "late");  /* in the sorted part */
	set(s, "k.000", "first"); /* in the tail, twice */
	set(s, "k.000", "second");
	assert_string_equal(ctp_snapshot_sysctl(s, "k.199"), "late");
	assert_string_equal(ctp_snapshot_sysctl(s, "k.000"), "second");
	assert_string_equal(ctp_snapshot_sysctl(s, "k.100"), "100");
	/* the list is the finalized view: each key once, sorted */
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	assert_int_equal(ctp_snapshot_sysctl_count(s), 200);
	for (size_t i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "k.%03zu", i);
		assert_string_equal(ctp_snapshot_sysctl_at(s, i, NULL), key);
	}
	assert_string_equal(ctp_snapshot_sysctl_at(s, 1, &v), "k.001");
	assert_string_equal(v, "1");
	/* a key that is the start of another is its own key; a key stops
	 * at a NUL */
	set(s, "k.1", "short");
	assert_int_equal(ctp_snapshot_set_sysctl(s, "k.2\0junk", 8, "x", 1),
			 0);
	assert_string_equal(ctp_snapshot_sysctl(s, "k.1"), "short");
	assert_string_equal(ctp_snapshot_sysctl(s, "k.100"), "100");
	assert_string_equal(ctp_snapshot_sysctl(s, "k.2"), "x");
	assert_null(ctp_snapshot_sysctl(s, "k."));
	assert_null(ctp_snapshot_sysctl(s, "k.1000"));
	/* from sysctl -a text; the later input wins */
	parse(s, "a", "net.netfilter.nf_conntrack_max = 262144\n");
	parse(s, "b", "net.netfilter.nf_conntrack_max = 65536\n");
	assert_string_equal(
		ctp_snapshot_sysctl(s, "net.netfilter.nf_conntrack_max"),
		"65536");
	ctp_snapshot_free(s);
}

static void test_sysctl_u64(void **state)
{
	static const struct {
		const char *val;
		int ok;
		uint64_t v;
	} rows[] = {
		{ "262144", 1, 262144 },
		{ "0", 1, 0 },
		{ "007", 1, 7 },
		{ "18446744073709551615", 1, UINT64_MAX },
		{ "18446744073709551610", 1, UINT64_MAX - 5 },
		{ "18446744073709551616", 0, 0 },
		{ "99999999999999999999", 0, 0 },
		{ "", 0, 0 },
		{ "-1", 0, 0 },
		{ " 5", 0, 0 },
		{ "5 ", 0, 0 },
		{ "4096\t6291456", 0, 0 }, /* several values */
		{ "0x10", 0, 0 },
	};
	ctp_snapshot *s;
	uint64_t v;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		set(s, "x", rows[i].val);
		v = 12345;
		if (ctp_snapshot_sysctl_u64(s, "x", &v) != rows[i].ok)
			fail_msg("\"%s\": want %s", rows[i].val,
				 rows[i].ok ? "a number" : "none");
		assert_int_equal(v, rows[i].ok ? rows[i].v : 12345);
	}
	assert_int_equal(ctp_snapshot_sysctl_u64(s, "absent", &v), 0);
	ctp_snapshot_free(s);
}

static void test_count_meminfo_kernel(void **state)
{
	ctp_snapshot *s;
	const ctp_kernel_info *k;
	uint64_t v = 99;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(ctp_snapshot_count(s, &v), 0);
	assert_int_equal(v, 99);
	assert_int_equal(ctp_snapshot_meminfo(s, "MemTotal", &v), 0);
	assert_null(ctp_snapshot_kernel(s));
	/* conntrack -C, then a later count: the later wins; 0 is a count */
	parse(s, "count", "35\n");
	assert_int_equal(ctp_snapshot_count(s, &v), 1);
	assert_int_equal(v, 35);
	ctp_snapshot_set_count(s, 0);
	assert_int_equal(ctp_snapshot_count(s, &v), 1);
	assert_int_equal(v, 0);
	parse(s, "meminfo",
	      "MemTotal:       24684092 kB\nMemFree:        24191224 kB\n"
	      "HugePages_Total:       0\n");
	assert_int_equal(ctp_snapshot_meminfo(s, "MemTotal", &v), 1);
	assert_int_equal(v, 24684092);
	assert_int_equal(ctp_snapshot_meminfo(s, "HugePages_Total", &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(ctp_snapshot_meminfo(s, "MemTotal:", &v), 0);
	assert_int_equal(ctp_snapshot_set_meminfo(s, "MemTotal", 8, 1024), 0);
	assert_int_equal(ctp_snapshot_meminfo(s, "MemTotal", &v), 1);
	assert_int_equal(v, 1024);
	parse(s, "uname", "Linux vm 6.18.44-fc-v657 #1 SMP PREEMPT_DYNAMIC @0 "
			  "x86_64 GNU/Linux\n");
	k = ctp_snapshot_kernel(s);
	assert_non_null(k);
	assert_string_equal(k->release, "6.18.44-fc-v657");
	assert_string_equal(k->machine, "x86_64");
	assert_int_equal(k->major, 6);
	assert_int_equal(k->minor, 18);
	assert_int_equal(k->patch, 44);
	ctp_snapshot_free(s);
}

static void test_stats(void **state)
{
	ctp_snapshot *s;
	uint16_t list, a, b;
	uint64_t v = 7;
	int src = 5;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(ctp_snapshot_stat(s, CTP_STAT_FOUND, &v), 0);
	assert_int_equal(ctp_snapshot_stat_cpus(s, &src), 0);
	assert_int_equal(src, -1);
	assert_int_equal(ctp_snapshot_add_input(s, "list", NULL, &list), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "a", NULL, &a), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "b", NULL, &b), 0);
	assert_int_equal(ctp_snapshot_add_stat(s, 3, CTP_STAT_FOUND, 1),
			 CTP_EFAIL);
	assert_int_equal(ctp_snapshot_add_stat(s, a, CTP_STAT_COUNT, 1),
			 CTP_EFAIL);
	/* two CPU rows of input a: counters add up, entries (the global
	 * count on every row) does not */
	for (int cpu = 0; cpu < 2; cpu++) {
		assert_int_equal(
			ctp_snapshot_add_stat(s, a, CTP_STAT_FOUND, 3 + cpu),
			0);
		assert_int_equal(
			ctp_snapshot_add_stat(s, a, CTP_STAT_ENTRIES, 30), 0);
		ctp_snapshot_stat_row(s, a);
	}
	/* input b's counters are another reading of the same host */
	assert_int_equal(ctp_snapshot_add_stat(s, b, CTP_STAT_FOUND, 100), 0);
	assert_int_equal(ctp_snapshot_add_stat(s, b, CTP_STAT_DROP, 100), 0);
	ctp_snapshot_stat_row(s, b);
	assert_int_equal(ctp_snapshot_stat(s, CTP_STAT_FOUND, &v), 1);
	assert_int_equal(v, 7);
	assert_int_equal(ctp_snapshot_stat(s, CTP_STAT_ENTRIES, &v), 1);
	assert_int_equal(v, 30);
	assert_int_equal(ctp_snapshot_stat(s, CTP_STAT_DROP, &v), 0);
	assert_int_equal(ctp_snapshot_stat(s, CTP_STAT_COUNT, &v), 0);
	assert_int_equal(ctp_snapshot_stat_cpus(s, &src), 2);
	assert_int_equal(src, a);
	assert_int_equal(ctp_snapshot_stat_cpus(s, NULL), 2);
	ctp_snapshot_free(s);
	/* conntrack -S of the lab: found summed over cpu=0 and cpu=1 */
	assert_int_equal(ctp_snapshot_new(&s), 0);
	parse(s, "S",
	      "cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=0 "
	      "early_drop=0 error=0 search_restart=0 clash_resolve=0 "
	      "chaintoolong=0 \n"
	      "cpu=1   \tfound=3 invalid=1 insert=0 insert_failed=0 drop=2 "
	      "early_drop=0 error=0 search_restart=0 clash_resolve=0 "
	      "chaintoolong=0 \n");
	assert_int_equal(ctp_snapshot_stat(s, CTP_STAT_FOUND, &v), 1);
	assert_int_equal(v, 3);
	assert_int_equal(ctp_snapshot_stat(s, CTP_STAT_DROP, &v), 1);
	assert_int_equal(v, 2);
	assert_int_equal(ctp_snapshot_stat_cpus(s, &src), 2);
	assert_int_equal(src, 0);
	ctp_snapshot_free(s);
}

/* a TCP flow 10.0.0.<host>:<sport> -> 10.0.0.100:80 in zone z */
static void add(ctp_snapshot *s, uint16_t in, unsigned host,
		unsigned sport, uint16_t zone, uint16_t flags)
{
	ctp_flow f;

	memset(&f, 0, sizeof(f));
	f.input = in;
	f.extra = CTP_NO_EXTRA;
	f.family = CTP_AF_INET;
	f.proto = CTP_P_TCP;
	f.state = CTP_TCP_ESTABLISHED;
	f.zone = zone;
	f.flags = flags;
	f.orig.src[0] = f.orig.dst[0] = 10;
	f.orig.src[3] = (uint8_t)host;
	f.orig.dst[3] = 100;
	f.orig.sport = (uint16_t)sport;
	f.orig.dport = 80;
	memcpy(f.reply.src, f.orig.dst, 16);
	memcpy(f.reply.dst, f.orig.src, 16);
	f.reply.sport = 80;
	f.reply.dport = (uint16_t)sport;
	assert_int_equal(ctp_snapshot_add_flow(s, &f, NULL), 0);
}

static void test_inputs_and_overlaps(void **state)
{
	ctp_snapshot *s;
	uint16_t a, b, c, d, e;
	/* ctp_snapshot_flow_counted of each flow after finalize */
	static const int counted[] = { 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0 };

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "a", NULL, &a), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "b", "", &b), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "c", "", &c), 0);
	assert_int_equal(ctp_snapshot_add_input(s, "d", "ns1", &d), 0);
	assert_int_equal(ctp_snapshot_add_input(s, NULL, "", &e), 0);
	assert_int_equal(ctp_snapshot_input_count(s), 5);
	assert_string_equal(ctp_snapshot_input(s, a)->ns, "");
	assert_string_equal(ctp_snapshot_input(s, d)->ns, "ns1");
	assert_string_equal(ctp_snapshot_input(s, e)->path, "-");
	assert_null(ctp_snapshot_input(s, 5));
	add(s, a, 1, 1000, 0, 0);       /* 0 */
	add(s, a, 2, 1000, 0, 0);       /* 1 */
	add(s, a, 5, 5000, 0, 0);       /* 2: b has it twice: b's kept */
	add(s, b, 1, 1000, 0, 0);       /* 3: copy of 0 */
	add(s, b, 2, 1000, 0, 0);       /* 4: copy of 1 */
	add(s, b, 3, 1000, 0, 0);       /* 5 */
	add(s, b, 5, 5000, 0, 0);       /* 6 */
	add(s, b, 5, 5000, 0, 0);       /* 7 */
	add(s, b, 1, 1000, 0, CTP_F_EVENT); /* 8: an event, never counted */
	add(s, c, 1, 1000, 9, 0);       /* 9: zone 9: another entry */
	add(s, d, 1, 1000, 0, 0);       /* 10: another namespace */
	add(s, e, 2, 1000, 0, 0);       /* 11: copy of 1 */
	/* before finalize nothing overlaps */
	assert_int_equal(ctp_snapshot_inputs_overlap(s, a, b), 0);
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	assert_int_equal(ctp_snapshot_flow_count(s), 12);
	for (size_t i = 0; i < 12; i++)
		if (ctp_snapshot_flow_counted(s, i) != counted[i])
			fail_msg("flow %zu: counted %d, want %d", i,
				 ctp_snapshot_flow_counted(s, i), counted[i]);
	assert_true(ctp_snapshot_flow_flags(s, 3) & CTP_F_DUP);
	assert_false(ctp_snapshot_flow_flags(s, 8) & CTP_F_DUP);
	assert_int_equal(ctp_snapshot_input(s, a)->flows, 3);
	assert_int_equal(ctp_snapshot_input(s, a)->duplicates, 1);
	assert_int_equal(ctp_snapshot_input(s, b)->flows, 6);
	assert_int_equal(ctp_snapshot_input(s, b)->duplicates, 2);
	assert_int_equal(ctp_snapshot_input(s, c)->duplicates, 0);
	assert_int_equal(ctp_snapshot_input(s, d)->duplicates, 0);
	assert_int_equal(ctp_snapshot_input(s, e)->duplicates, 1);
	/* overlaps are symmetric, never with itself, and only between
	 * inputs that shared an entry */
	assert_int_equal(ctp_snapshot_inputs_overlap(s, a, b), 1);
	assert_int_equal(ctp_snapshot_inputs_overlap(s, b, a), 1);
	assert_int_equal(ctp_snapshot_inputs_overlap(s, a, e), 1);
	assert_int_equal(ctp_snapshot_inputs_overlap(s, e, a), 1);
	assert_int_equal(ctp_snapshot_inputs_overlap(s, b, e), 0);
	assert_int_equal(ctp_snapshot_inputs_overlap(s, a, a), 0);
	assert_int_equal(ctp_snapshot_inputs_overlap(s, a, c), 0);
	assert_int_equal(ctp_snapshot_inputs_overlap(s, a, d), 0);
	assert_int_equal(ctp_snapshot_inputs_overlap(s, a, 99), 0);
	ctp_snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysctl),
		cmocka_unit_test(test_sysctl_u64),
		cmocka_unit_test(test_count_meminfo_kernel),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_inputs_and_overlaps),
	};

	return cmocka_run_group_tests_name("core/snapshot", tests, NULL, NULL);
}
