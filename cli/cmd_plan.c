/*
 * ctplan plan: the recommended nf_conntrack_max and nf_conntrack_buckets
 * for a number of entries, without a dump.  Also the option parsing the
 * planner's options share with ctplan check (cli_plan_options).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/plan.h"
#include "ctplan/render.h"
#include "cli.h"

/* The value of option name, or NULL when not given or when cmd has no
 * such option (the planner options are shared by several commands). */
static const char *opt(const cli_cmd *cmd, const cli_args *a,
		       const char *name)
{
	for (int i = 0; cmd->opts[i].name; i++)
		if (strcmp(cmd->opts[i].name, name) == 0)
			return a->val[i];
	return NULL;
}

/* A decimal like "0.25" or "1.5": digits, at most one point. */
static int parse_dec(const char *s, double *out)
{
	double v = 0, scale = 0;
	int digits = 0;

	for (; *s; s++) {
		if (*s == '.' && scale == 0) {
			scale = 1;
			continue;
		}
		if (*s < '0' || *s > '9' || digits > 15)
			return -1;
		digits++;
		if (scale)
			v += (*s - '0') * (scale /= 10);
		else
			v = v * 10 + (*s - '0');
	}
	if (!digits)
		return -1;
	*out = v;
	return 0;
}

/* "25%" or "0.25" into a share */
static int parse_share(const char *s, double *out)
{
	size_t n = strlen(s);
	char buf[32];

	if (n && s[n - 1] == '%') {
		if (n >= sizeof(buf))
			return -1;
		memcpy(buf, s, n - 1);
		buf[n - 1] = '\0';
		if (parse_dec(buf, out))
			return -1;
		*out /= 100;
		return 0;
	}
	return parse_dec(s, out);
}

/* "16G", "16GiB", "512M", "24684092K", or kB as /proc/meminfo gives */
static int parse_mem_kb(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t kb;
	} units[] = {
		{ "T", 1ull << 30 }, { "TiB", 1ull << 30 }, { "G", 1ull << 20 },
		{ "GiB", 1ull << 20 }, { "M", 1ull << 10 },
		{ "MiB", 1ull << 10 },
		{ "K", 1 }, { "KiB", 1 }, { "kB", 1 }, { "", 1 },
	};
	size_t n = strlen(s), d = 0;
	char num[24];
	double v;

	while (d < n && ((s[d] >= '0' && s[d] <= '9') || s[d] == '.'))
		d++;
	if (!d || d >= sizeof(num))
		return -1;
	memcpy(num, s, d);
	num[d] = '\0';
	if (parse_dec(num, &v))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s + d, units[i].suffix) == 0) {
			double kb = v * (double)units[i].kb;
			if (kb < 1024 || kb > 1e15)
				return -1;
			*out = (uint64_t)kb;
			return 0;
		}
	return -1;
}

static int bad(const cli_cmd *cmd, const char *what, const char *val)
{
	fprintf(stderr, "ctplan %s: %s, not '%s'\nTry 'ctplan %s --help'.\n",
		cmd->name, what, val, cmd->name);
	return CTP_EXIT_INPUT;
}

int cli_plan_options(const cli_cmd *cmd, const cli_args *a, ctp_plan_opts *o,
		     ctp_analyze_opts *ao)
{
	const char *v;
	uint64_t u;
	double d;

	if ((v = opt(cmd, a, "margin"))) {
		if (parse_share(v, &d) || d < 0 || d > 0.95)
			return bad(cmd, "--margin takes a share from 0 to 95% "
					"(\"25%\" or \"0.25\")", v);
		o->margin = d;
	}
	if ((v = opt(cmd, a, "max-chain"))) {
		if (cli_parse_uint(v, 10, 1, 1000, &u))
			return bad(cmd, "--max-chain takes a number from 1 to "
					"1000", v);
		o->max_chain = (unsigned)u;
	}
	if ((v = opt(cmd, a, "chain-share"))) {
		if (parse_share(v, &d) || !(d > 0 && d < 1))
			return bad(cmd, "--chain-share takes a share between "
					"0 and 100%", v);
		o->chain_share = d;
	}
	if ((v = opt(cmd, a, "max-nat-util"))) {
		if (parse_share(v, &d) || d > 1)
			return bad(cmd, "--max-nat-util takes a share from 0 "
					"to 1", v);
		o->max_nat_util = d;
	}
	if ((v = opt(cmd, a, "growth"))) {
		if (parse_dec(v, &d) || d < 0.01 || d > 1e6)
			return bad(cmd, "--growth takes a factor from 0.01 to "
					"1000000", v);
		o->growth = d;
	}
	if ((v = opt(cmd, a, "peak"))) {
		if (cli_parse_uint(v, 10, 1, 1ull << 32, &u))
			return bad(cmd, "--peak takes a number of entries "
					"from 1 to 4294967296", v);
		o->peak = u;
	}
	if ((v = opt(cmd, a, "cores"))) {
		if (cli_parse_uint(v, 10, 1, 65536, &u))
			return bad(cmd, "--cores takes a number from 1 to "
					"65536", v);
		o->cores = (unsigned)u;
	}
	if ((v = opt(cmd, a, "mem"))) {
		if (parse_mem_kb(v, &u))
			return bad(cmd, "--mem takes a size like 16G, 512M or "
					"kB, at least 1M", v);
		o->mem_kb = u;
	}
	if (opt(cmd, a, "allow-shrink"))
		o->allow_shrink = 1;
	if ((v = opt(cmd, a, "evictable"))) {
		if (parse_share(v, &d) || d > 1)
			return bad(cmd, "--evictable takes a share from 0 to "
					"1", v);
		o->evictable = d;
	}
	if (ao && cli_kernel_options(cmd, a, ao))
		return CTP_EXIT_INPUT;
	return 0;
}

/* One of --kernel, --to-kernel: a release string ctp_kernel_identify()
 * reads ("6.1", "5.15.0-125-generic", "5.14.0-362.el9"). */
static int kernel_option(const cli_cmd *cmd, const cli_args *a,
			 const char *name, ctp_kernel_id *id,
			 const char **out)
{
	const char *v = opt(cmd, a, name);
	ctp_error err = CTP_ERROR_INIT;

	*out = NULL;
	if (!v)
		return 0;
	if (ctp_kernel_identify(v, strlen(v), -1, id, &err)) {
		fprintf(stderr, "ctplan %s: --%s: %s\nTry 'ctplan %s "
				"--help'.\n",
			cmd->name, name, err.msg, cmd->name);
		return CTP_EXIT_INPUT;
	}
	*out = v;
	return 0;
}

int cli_kernel_options(const cli_cmd *cmd, const cli_args *a,
		       ctp_analyze_opts *ao)
{
	ctp_kernel_id id;

	if (kernel_option(cmd, a, "kernel", &id, &ao->kernel_release))
		return CTP_EXIT_INPUT;
	if (ao->kernel_release) {
		ao->kernel = id.upstream;
		ao->has_kernel = 1;
	}
	if (kernel_option(cmd, a, "to-kernel", &id, &ao->to_kernel_release))
		return CTP_EXIT_INPUT;
	return 0;
}

/* A release string read as a vendor build, or with its patch level
 * assumed: say how, on stderr as the other notes (the analyze report has
 * it as the finding kernel.identified). */
static void kernel_note(const cli_cmd *cmd, const char *release)
{
	ctp_kernel_id id;
	ctp_error err = CTP_ERROR_INIT;
	char kv[32];

	if (!release ||
	    ctp_kernel_identify(release, strlen(release), -1, &id, &err) ||
	    (!strcmp(id.vendor, "upstream") && id.exact))
		return;
	ctp_kver_format(&id.upstream, kv, sizeof(kv));
	fprintf(stderr, "ctplan %s: note: '%s' (%s) is modelled as upstream "
			"%s%s%s\n",
		cmd->name, release, id.vendor, kv, id.note[0] ? "; " : "",
		id.note);
}

int cmd_plan(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	ctp_plan_opts po = CTP_PLAN_OPTS_INIT;
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;
	ctp_plan_input in;
	ctp_plan_result res;
	ctp_report *rep = NULL;
	ctp_error err = CTP_ERROR_INIT;
	const char *fmt, *ent;
	uint64_t entries;
	int rc;

	rc = cli_parse(cmd, argc, argv, &a);
	if (rc)
		return rc == 1 ? CTP_EXIT_OK : rc;
	if (a.npos) {
		fprintf(stderr, "ctplan plan: takes no PATH ('%s'); for a "
				"dump use 'ctplan analyze'\n",
			a.pos[0]);
		return CTP_EXIT_INPUT;
	}
	fmt = cli_get(cmd, &a, "format");
	if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json")) {
		fprintf(stderr, "ctplan plan: unknown format '%s' (text or "
				"json)\n",
			fmt);
		return CTP_EXIT_INPUT;
	}
	if (!(ent = cli_get(cmd, &a, "entries"))) {
		fprintf(stderr, "ctplan plan: --entries N is required\n"
				"Try 'ctplan plan --help'.\n");
		return CTP_EXIT_INPUT;
	}
	if (cli_parse_uint(ent, 10, 1, 1ull << 32, &entries))
		return bad(cmd, "--entries takes a number from 1 to "
				"4294967296",
			   ent);
	if (cli_plan_options(cmd, &a, &po, &ao))
		return CTP_EXIT_INPUT;

	memset(&in, 0, sizeof(in));
	in.kernel = ao.has_kernel ? ao.kernel : ctp_kernel_newest();
	kernel_note(cmd, ao.kernel_release);
	kernel_note(cmd, ao.to_kernel_release);
	in.kernel_source =
		ao.has_kernel ? "--kernel" : "assumed: the newest known";
	if (ao.to_kernel_release) {
		ctp_kernel_id to;
		ctp_error kerr = CTP_ERROR_INIT;

		/* parsed once already by cli_plan_options */
		(void)ctp_kernel_identify(ao.to_kernel_release,
					  strlen(ao.to_kernel_release), -1,
					  &to, &kerr);
		in.has_from = 1;
		in.from = in.kernel;
		in.kernel = to.upstream;
		in.kernel_source = "--to-kernel";
	}
	in.peak = (uint64_t)ceil((double)entries * po.growth);
	in.peak_source = po.growth != 1 ? "--entries x --growth" : "--entries";
	in.evictable = po.evictable;
	in.gc_evictable = NAN; /* no listing: the share is not known */
	/* without a dump: conntrack events on (the kernel's default) */
	in.ext_mask = CTP_EXT_ECACHE;
	in.mem_kb = po.mem_kb;
	in.bits = 64;
	in.cores = po.cores;
	in.cores_given = po.cores > 0;
	if (ctp_plan_compute(&in, &po, &res, &err)) {
		fprintf(stderr, "ctplan plan: %s\n", err.msg);
		return CTP_EXIT_INPUT;
	}
	if (ctp_report_new(&rep) ||
	    ctp_plan_add_sections(rep, &in, &po, &res, in.peak_source)) {
		fprintf(stderr, "ctplan: out of memory\n");
		ctp_report_free(rep);
		return CTP_EXIT_INPUT;
	}
	if (fmt && strcmp(fmt, "json") == 0)
		rc = ctp_render_json(rep, stdout, NULL);
	else
		rc = ctp_render_plan_text(rep, stdout, 0);
	ctp_report_free(rep);
	return rc ? CTP_EXIT_INPUT : CTP_EXIT_OK;
}
