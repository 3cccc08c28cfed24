/*
 * ctplan buckets: the kernel's hash and bucket of every tuple of a dump
 * for a key the user gives, as CSV.  This is how ctplan's hashing is
 * checked against the kernel's code for a known key (docs/hash-model.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctplan/hash.h"
#include "ctplan/kernel.h"
#include "ctplan/parse.h"
#include "ctplan/snapshot.h"
#include "cli.h"

/* Line errors printed before the rest are only counted. */
#define MAX_SHOWN 20

typedef struct diag_state {
	int quiet;
	unsigned long shown, hidden;
} diag_state;

static void on_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	diag_state *d = ud;
	char buf[CTP_ERROR_TEXT_MAX];

	if (sev == CTP_SEV_NOTE && d->quiet)
		return;
	if (sev == CTP_SEV_ERROR && d->shown++ >= MAX_SHOWN) {
		d->hidden++;
		return;
	}
	ctp_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

static int usage_error(const char *what, const char *val)
{
	fprintf(stderr, "ctplan buckets: %s", what);
	if (val)
		fprintf(stderr, ", not '%s'", val);
	fprintf(stderr, "\nTry 'ctplan buckets --help'.\n");
	return CTP_EXIT_INPUT;
}

/* The table size the input gives, as the inventory reads it. */
static int input_buckets(const ctp_snapshot *snap, uint64_t *out)
{
	return ctp_snapshot_sysctl_u64(snap,
				       "net.netfilter.nf_conntrack_buckets",
				       out) ||
	       ctp_snapshot_sysctl_u64(snap, "module.nf_conntrack.hashsize",
				       out);
}

static int print_rows(const ctp_snapshot *snap, ctp_hash_era era,
		      const ctp_hash_key *key, uint32_t netmix,
		      uint32_t buckets, uint64_t *inexact)
{
	static const char *const dirs[2] = { "original", "reply" };
	size_t n = ctp_snapshot_flow_count(snap);
	uint64_t rec = 0;
	ctp_flow fl;
	const ctp_flow *f = &fl;

	if (printf("record,direction,zone,hash,bucket\n") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint32_t h[2];
		uint16_t z[2];

		/* the same rule as the model: copies of an entry shown by
		 * another input, and event lines, are no table entries */
		if (ctp_snapshot_flow_flags(snap, i) &
		    (CTP_F_DUP | CTP_F_EVENT))
			continue;
		ctp_snapshot_flow_get(snap, i, &fl);
		if (ctp_proto_is_icmp(f->proto) && (f->flags & CTP_F_NO_ICMP))
			(*inexact)++;
		ctp_hash_flow(era, key, netmix, f, ctp_snapshot_extra(snap, f),
			      h, z);
		for (int d = 0; d < 2; d++)
			if (printf("%llu,%s,%u,%08x,%u\n",
				   (unsigned long long)rec, dirs[d], z[d], h[d],
				   ctp_hash_scale(h[d], buckets)) < 0)
				return -1;
		rec++;
	}
	return 0;
}

int cmd_buckets(const cli_cmd *cmd, int argc, char **argv)
{
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	diag_state ds = { 0, 0, 0 };
	ctp_snapshot *snap = NULL;
	const char *keyhex, *mixhex, *bstr, *kstr, *ksrc;
	ctp_kernel_id kid;
	const ctp_hash_era_info *info;
	uint64_t netmix = 0, buckets = 0, inexact = 0;
	ctp_hash_key key;
	ctp_kver v;
	cli_args a;
	char buf[CTP_ERROR_TEXT_MAX];
	int rc, ret = CTP_EXIT_INPUT;

	rc = cli_parse(cmd, argc, argv, &a);
	if (rc)
		return rc == 1 ? CTP_EXIT_OK : rc;
	keyhex = cli_get(cmd, &a, "key");
	mixhex = cli_get(cmd, &a, "netmix");
	bstr = cli_get(cmd, &a, "buckets");
	kstr = cli_get(cmd, &a, "kernel");
	ds.quiet = cli_get(cmd, &a, "quiet") != NULL;
	if (!keyhex)
		return usage_error("--key HEX32 is required", NULL);
	if (ctp_hash_key_parse(keyhex, strlen(keyhex), &key, &err))
		return usage_error(err.msg, NULL);
	if (mixhex && cli_parse_uint(mixhex, 16, 0, UINT32_MAX, &netmix))
		return usage_error("--netmix takes a 32-bit hex number",
				   mixhex);
	/* reciprocal_scale() takes a u32 table size */
	if (bstr && (cli_parse_uint(bstr, 10, 0, UINT32_MAX, &buckets) || !buckets))
		return usage_error("--buckets takes a number from 1 to "
				   "4294967295",
				   bstr);
	/* a release string is read as the upstream build it carries
	 * (docs/kernels.md) */
	if (kstr && ctp_kernel_identify(kstr, strlen(kstr), -1, &kid, &err))
		return usage_error(err.msg, NULL);
	if (!a.npos)
		return usage_error("no input given", NULL);

	popts.strict = cli_get(cmd, &a, "strict") != NULL;
	popts.diag = on_diag;
	popts.diag_ud = &ds;
	if (ctp_snapshot_new(&snap)) {
		fprintf(stderr, "ctplan: out of memory\n");
		return CTP_EXIT_INPUT;
	}
	for (int i = 0; i < a.npos; i++) {
		if (ctp_parse_path(snap, a.pos[i], &popts, &err)) {
			ctp_error_format(&err, buf, sizeof(buf));
			fprintf(stderr, "%s\n", buf);
			goto done;
		}
	}
	if (ds.hidden)
		fprintf(stderr, "%lu more malformed lines not shown\n",
			ds.hidden);
	if (ctp_snapshot_finalize(snap)) {
		fprintf(stderr, "ctplan: out of memory\n");
		goto done;
	}

	if (kstr) {
		v = kid.upstream;
		ksrc = "--kernel";
	} else if (ctp_snapshot_kernel(snap) &&
		   ctp_snapshot_kernel(snap)->release[0] &&
		   ctp_kernel_identify(ctp_snapshot_kernel(snap)->release,
				       strlen(ctp_snapshot_kernel(snap)->release),
				       ctp_snapshot_kernel(snap)->patch, &kid,
				       &err) == 0) {
		v = kid.upstream;
		ksrc = "uname";
	} else if (ctp_kver_from_info(ctp_snapshot_kernel(snap), &v)) {
		ksrc = "uname";
	} else {
		v = ctp_kernel_newest();
		ksrc = "newest known";
	}
	if (!bstr && !input_buckets(snap, &buckets)) {
		usage_error("no table size in the input "
			    "(net.netfilter.nf_conntrack_buckets): give "
			    "--buckets N",
			    NULL);
		goto done;
	}
	if (buckets == 0 || buckets > UINT32_MAX) {
		fprintf(stderr, "ctplan buckets: table size %llu in the input "
				"is out of range: give --buckets N\n",
			(unsigned long long)buckets);
		goto done;
	}
	info = ctp_kernel_hash_era_info(ctp_kernel_hash_era(&v));
	if (print_rows(snap, info->era, &key, (uint32_t)netmix,
		       (uint32_t)buckets, &inexact))
		goto done; /* main() reports the write error */
	if (!ds.quiet) {
		char kbuf[32];

		ctp_kver_format(&v, kbuf, sizeof(kbuf));
		fprintf(stderr, "ctplan buckets: kernel %s (%s): %s, "
				"%llu buckets\n",
			kbuf, ksrc, info->name, (unsigned long long)buckets);
		if (inexact)
			fprintf(stderr, "ctplan buckets: %llu ICMP entries "
					"lack type, code and id: hashed as "
					"zeros\n",
				(unsigned long long)inexact);
	}
	ret = CTP_EXIT_OK;
done:
	ctp_snapshot_free(snap);
	return ret;
}
