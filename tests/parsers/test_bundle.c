/*
 * Support bundles (parsers/bundle.c): the sos name rules, archive magic,
 * and an archive built in memory with libarchive's writer, read back
 * member by member (names, namespaces, unsafe members, a corrupt
 * stream).
 */
#define _GNU_SOURCE /* fmemopen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "bundle.h"
#include "fixture.h"

static const struct label_case {
	const char *path;
	const char *ns; /* NULL: no label */
} label_cases[] = {
	{ "ip_netns_exec_web-1_conntrack_-L_-o_extended", "web-1" },
	{ "x.tar.xz!sosreport-h/sos_commands/conntrack/"
	  "ip_netns_exec_ns_a_conntrack_-S",
	  "ns_a" },
	{ "d/ip_netns_exec_cni-1f2e_sysctl_-a", "cni-1f2e" },
	{ "ip_netns_exec__conntrack_-S", NULL },   /* empty name */
	{ "ip_netns_exec_a_conntrack_-L", NULL },  /* not a sos command */
	{ "conntrack_-L_-o_extended", NULL },
	{ "ip_netns_exec_web/conntrack_-S", NULL }, /* the name's dir */
	{ "", NULL },
};

static void test_netns_label(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(label_cases) / sizeof(label_cases[0]);
	     i++) {
		char buf[64] = "";
		int got = ctp_bundle_netns_label(label_cases[i].path, buf,
						 sizeof(buf));
		if (!label_cases[i].ns) {
			assert_int_equal(got, 0);
			continue;
		}
		assert_int_equal(got, 1);
		assert_string_equal(buf, label_cases[i].ns);
	}
	{
		/* a label longer than the buffer is no label */
		char small[4];
		assert_int_equal(ctp_bundle_netns_label(
					 "ip_netns_exec_long-name_conntrack_-S",
					 small, sizeof(small)),
				 0);
	}
}

static const struct wanted_case {
	const char *rel;
	int want;
} wanted_cases[] = {
	{ "sos_commands/conntrack/conntrack_-L_-o_extended", 1 },
	{ "sos_commands/conntrack/conntrack_-S", 1 },
	{ "sos_commands/conntrack/ip_netns_exec_w_conntrack_-L_-o_extended",
	  1 },
	{ "sos_commands/conntrack/ip_netns_exec_w_conntrack_-S", 1 },
	{ "sos_commands/conntrack/conntrackd_-s_cache", 0 },
	{ "sos_commands/kernel/sysctl_-a", 1 },
	{ "sos_commands/kernel/uname_-a", 1 },
	{ "sos_commands/kernel/dmesg", 1 },
	{ "sos_commands/kernel/dmesg_-T", 0 }, /* the same log again */
	{ "sos_commands/networking/namespaces/w/ip_netns_exec_w_sysctl_-a",
	  0 },
	{ "proc/meminfo", 1 },
	{ "proc/sys/net/netfilter/nf_conntrack_max", 1 },
	{ "proc/sys/net/netfilter/nf_conntrack_count", 1 },
	{ "proc/sys/net/netfilter/nf_log/2", 0 },
	{ "proc/sys/net/nf_conntrack_max", 1 },
	{ "sys/module/nf_conntrack/parameters/hashsize", 1 },
	{ "etc/sysctl.conf", 0 },
	{ "uname", 0 },
	{ "", 0 },
};

static void test_sos_wanted(void **state)
{
	(void)state;
	for (size_t i = 0;
	     i < sizeof(wanted_cases) / sizeof(wanted_cases[0]); i++) {
		if (ctp_bundle_sos_wanted(wanted_cases[i].rel) !=
		    wanted_cases[i].want)
			fail_msg("%s: want %d", wanted_cases[i].rel,
				 wanted_cases[i].want);
	}
}

static void test_is_archive(void **state)
{
	unsigned char tar[512];
	static const struct {
		const char *bytes;
		size_t len;
		int want;
	} cases[] = {
		{ "\x1f\x8b\x08\x00", 4, 1 },
		{ "\xfd" "7zXZ\0\x00", 7, 1 },
		{ "BZh91AY", 7, 1 },
		{ "\x28\xb5\x2f\xfd\x00", 5, 1 },
		{ "\x1f", 1, 0 }, /* too short to tell */
		{ "tcp      6 431999 ESTABLISHED", 29, 0 },
		{ "", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ctp_bundle_is_archive(
					 (const unsigned char *)cases[i].bytes,
					 cases[i].len),
				 cases[i].want);
	memset(tar, 0, sizeof(tar));
	memcpy(tar + 257, "ustar", 5);
	assert_int_equal(ctp_bundle_is_archive(tar, sizeof(tar)), 1);
	assert_int_equal(ctp_bundle_is_archive(tar, 260), 0);
}

/* ---- an archive built in memory ---- */

typedef struct member {
	const char *name;
	unsigned type; /* AE_IF* */
	const char *data;
} member;

static size_t build(char *buf, size_t size, const member *m, size_t n)
{
	struct archive *a = archive_write_new();
	size_t used = 0;

	assert_non_null(a);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_pax_restricted(a),
			 ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, size, &used),
			 ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, m[i].type);
		archive_entry_set_perm(e, 0644);
		if (m[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, "elsewhere");
		archive_entry_set_size(
			e, m[i].type == AE_IFREG ? (la_int64_t)strlen(m[i].data)
						 : 0);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].type == AE_IFREG)
			archive_write_data(a, m[i].data, strlen(m[i].data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return used;
}

typedef struct notes {
	int warn, note;
	char last[256];
} notes;

static void on_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	notes *n = ud;

	if (sev == CTP_SEV_WARN)
		n->warn++;
	else if (sev == CTP_SEV_NOTE)
		n->note++;
	snprintf(n->last, sizeof(n->last), "%s", e->msg);
}

static const member sos[] = {
	{ "sosreport-h-1/version.txt", AE_IFREG, "sos report: 4.5\n" },
	{ "sosreport-h-1/sos_commands/conntrack/conntrack_-S", AE_IFREG,
	  "cpu=0   \tfound=1 invalid=2 insert=0 insert_failed=0 drop=7 "
	  "early_drop=0 error=0 search_restart=0 \n" },
	{ "sosreport-h-1/sos_commands/conntrack/"
	  "ip_netns_exec_blue_conntrack_-L_-o_extended",
	  AE_IFREG,
	  "ipv4     2 udp      17 29 src=198.51.100.1 dst=203.0.113.9 "
	  "sport=5000 dport=53 [UNREPLIED] src=203.0.113.9 "
	  "dst=198.51.100.1 sport=53 dport=5000 mark=0 use=1\n" },
	{ "sosreport-h-1/etc/sysctl.conf", AE_IFREG,
	  "net.netfilter.nf_conntrack_max = 1\n" },
	{ "sosreport-h-1/uname", AE_IFLNK, NULL },
	{ "../escape", AE_IFREG, "1\n" },
	{ "sosreport-h-1/sos_commands/kernel/sysctl_-a", AE_IFREG,
	  "net.netfilter.nf_conntrack_max = 65536\n" },
};

static void test_read_archive(void **state)
{
	static char buf[1 << 16];
	size_t n = build(buf, sizeof(buf), sos, sizeof(sos) / sizeof(sos[0]));
	ctp_snapshot *snap;
	ctp_parse_opts o = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	notes nt = { 0, 0, "" };
	uint64_t v;
	FILE *fp = fmemopen(buf, n, "rb");

	(void)state;
	assert_non_null(fp);
	assert_int_equal(ctp_bundle_is_archive((unsigned char *)buf, n), 1);
	o.diag = on_diag;
	o.diag_ud = &nt;
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_bundle_read_archive(snap, "b.tgz", fp, n, &o,
						 &err),
			 0);
	fclose(fp);
	/* the -S, the namespace's dump, sysctl -a: not sysctl.conf, not
	 * the link, not the escaping member */
	assert_int_equal(ctp_snapshot_input_count(snap), 3);
	assert_string_equal(ctp_snapshot_input(snap, 0)->path,
			    "b.tgz!sosreport-h-1/sos_commands/conntrack/"
			    "conntrack_-S");
	assert_string_equal(ctp_snapshot_input(snap, 1)->ns, "blue");
	assert_string_equal(ctp_snapshot_input(snap, 0)->ns, "");
	assert_int_equal(ctp_snapshot_flow_count(snap), 1);
	assert_int_equal(ctp_snapshot_stat(snap, CTP_STAT_DROP, &v), 1);
	assert_int_equal(v, 7);
	assert_int_equal(ctp_snapshot_sysctl_u64(
				 snap, "net.netfilter.nf_conntrack_max", &v),
			 1);
	assert_int_equal(v, 65536);
	assert_int_equal(nt.warn, 1); /* ../escape */
	assert_true(nt.note >= 2);    /* the link, the summary */
	assert_non_null(strstr(nt.last, "sosreport: 3 files used, 0 in no "
					 "known format, 2 others not read"));
	ctp_snapshot_free(snap);
}

static void test_corrupt_archive(void **state)
{
	static char buf[1 << 16];
	size_t n = build(buf, sizeof(buf), sos, sizeof(sos) / sizeof(sos[0]));
	ctp_snapshot *snap;
	ctp_parse_opts o = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	FILE *fp;

	(void)state;
	/* garbage in the middle of the deflate stream */
	memset(buf + n / 2, 0x55, 16);
	fp = fmemopen(buf, n, "rb");
	assert_non_null(fp);
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_bundle_read_archive(snap, "b.tgz", fp, n, &o,
						 &err),
			 CTP_EINPUT);
	assert_string_equal(err.file, "b.tgz");
	assert_non_null(strstr(err.msg, "cannot read archive"));
	fclose(fp);
	ctp_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netns_label),
		cmocka_unit_test(test_sos_wanted),
		cmocka_unit_test(test_is_archive),
		cmocka_unit_test(test_read_archive),
		cmocka_unit_test(test_corrupt_archive),
	};

	return cmocka_run_group_tests_name("bundle", tests, NULL, NULL);
}
