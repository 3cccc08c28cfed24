/*
 * Shared by the libFuzzer harnesses (tests/fuzz/README).
 *
 * Formats keyed by path (sysctl.c, count.c, uname.c) read the same line
 * differently for a saved /proc/sys file, a module parameter or a plain
 * dump, so the first byte of each input picks the path the parsers see.
 * The names are the ones sosreport, kube-proxy and bundles use.
 */
#ifndef CTPLAN_FUZZ_COMMON_H
#define CTPLAN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

static const char *const ctp_fuzz_paths[] = {
	"",
	"dump.txt",
	"proc/sys/net/netfilter/nf_conntrack_max",
	"proc/sys/net/netfilter/nf_conntrack_count",
	"proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established",
	"proc/sys/net/nf_conntrack_max",
	"proc/sys/kernel/osrelease",
	"sys/module/nf_conntrack/parameters/hashsize",
	"hashsize",
	"b.tar!sosreport-h/proc/sys/net/netfilter/nf_conntrack_buckets",
	"b.tar!sosreport-h/sos_commands/kernel/sysctl_-a",
	"etc/sysctl.d/99-conntrack.conf",
	"sysctl.conf",
	"sos_commands/kernel/uname_-a",
	"nf_conntrack_count",
	"proc/sys/",
};
#define CTP_FUZZ_NPATHS (sizeof(ctp_fuzz_paths) / sizeof(ctp_fuzz_paths[0]))

/* The path chosen by the first byte; *data and *size skip that byte. */
static inline const char *ctp_fuzz_path(const uint8_t **data, size_t *size)
{
	uint8_t b;

	if (!*size)
		return "";
	b = **data;
	(*data)++;
	(*size)--;
	return ctp_fuzz_paths[b % CTP_FUZZ_NPATHS];
}

#endif
