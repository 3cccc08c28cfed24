#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* the planner's options, shared by analyze, plan and check
 * (cli_plan_options in cmd_plan.c) */
#define PLAN_OPT_GROWTH                                                   \
	{ "growth", 0, CLI_VALUE, "F", "plan for count x F entries at the " \
				       "peak (default 1)" }
#define PLAN_OPT_PEAK                                                     \
	{ "peak", 0, CLI_VALUE, "ENTRIES", "plan for this many entries at " \
					   "the peak" }
#define PLAN_OPT_MARGIN                                                   \
	{ "margin", 0, CLI_VALUE, "SHARE", "headroom kept at the peak, "    \
					   "\"25%\" or \"0.25\" (default " \
					   "25%)" }
#define PLAN_OPT_MAX_CHAIN                                                \
	{ "max-chain", 0, CLI_VALUE, "N", "chains longer than N are too "   \
					  "long (default 8)" }
#define PLAN_OPT_SHRINK                                                   \
	{ "allow-shrink", 0, CLI_FLAG, NULL, "let the recommendation lower " \
					     "max and buckets below the "   \
					     "settings in force and the "   \
					     "kernel default" }
#define PLAN_OPT_CORES                                                    \
	{ "cores", 0, CLI_VALUE, "N", "CPUs, for the kube-proxy rule" }
#define PLAN_OPT_MEM                                                      \
	{ "mem", 0, CLI_VALUE, "SIZE", "MemTotal, e.g. 16G (default: the "  \
				       "input's /proc/meminfo)" }

static const cli_opt analyze_opts[] = {
	{ "format", 'f', CLI_VALUE, "FMT", "output format: text, json, csv, "
					   "html or prom (default text)" },
	{ "output", 'o', CLI_VALUE, "FILE", "write the report to FILE "
					    "instead of stdout" },
	{ "strict", 0, CLI_FLAG, NULL, "stop at the first malformed line "
				       "(exit 2)" },
	{ "ns", 0, CLI_VALUE, "LABEL", "namespace label for the paths that "
				       "follow (repeatable)" },
	{ "color", 0, CLI_VALUE, "WHEN", "colour text output: auto, always "
					 "or never (auto honours NO_COLOR)" },
	{ "max-errors", 0, CLI_VALUE, "N", "print at most N line errors per "
					   "input (default 20; all are "
					   "counted)" },
	{ "quiet", 'q', CLI_FLAG, NULL, "print no notes, only errors" },
	{ "keys", 0, CLI_VALUE, "K", "sample K hash keys for the chain "
				     "model (default 8)" },
	{ "seed", 0, CLI_VALUE, "N", "seed of every random draw (default "
				     "1)" },
	{ "kernel", 0, CLI_VALUE, "VERSION", "model this kernel version "
					     "(default: uname, else newest)" },
	{ "to-kernel", 0, CLI_VALUE, "VERSION", "judge the input on the "
						"kernel about to be rolled "
						"out: settings that are "
						"today's defaults take its "
						"defaults" },
	{ "no-hash", 0, CLI_FLAG, NULL, "skip the hash chain model" },
	{ "burst-gap", 0, CLI_VALUE, "SECONDS", "kernel log history: "
						"messages further apart are "
						"separate bursts (default "
						"60)" },
	{ "nat-range", 0, CLI_VALUE, "LO-HI", "NAT: the rule's --to-ports "
					      "range (default: inferred from "
					      "the table, else the kernel's)" },
	{ "max-groups", 0, CLI_VALUE, "N", "NAT: list the N riskiest groups "
					   "(default 1000, 0 all; with "
					   "--csv-dir all)" },
	PLAN_OPT_GROWTH,
	PLAN_OPT_PEAK,
	PLAN_OPT_MARGIN,
	PLAN_OPT_MAX_CHAIN,
	PLAN_OPT_CORES,
	PLAN_OPT_MEM,
	PLAN_OPT_SHRINK,
	{ "csv-dir", 0, CLI_VALUE, "DIR", "also write CSV tables into DIR "
					  "(histogram, nat_groups, findings, "
					  "flows)" },
	{ "help", 'h', CLI_FLAG, NULL, "show this help" },
	{ 0 },
};

static const cli_opt buckets_opts[] = {
	{ "key", 0, CLI_VALUE, "HEX32", "hash key: 16 bytes as 32 hex "
					"digits, memory order (required)" },
	{ "netmix", 0, CLI_VALUE, "HEX", "the namespace's 32-bit hash mix "
					 "(default 0)" },
	{ "buckets", 0, CLI_VALUE, "N", "table size (default: "
					"nf_conntrack_buckets of the input)" },
	{ "kernel", 0, CLI_VALUE, "VERSION", "hash of this kernel version "
					     "(default: uname, else newest)" },
	{ "strict", 0, CLI_FLAG, NULL, "stop at the first malformed line "
				       "(exit 2)" },
	{ "quiet", 'q', CLI_FLAG, NULL, "print no notes, only errors" },
	{ "help", 'h', CLI_FLAG, NULL, "show this help" },
	{ 0 },
};

static const cli_opt fleet_opts[] = {
	{ "format", 'f', CLI_VALUE, "FMT", "csv (default: one row per host) "
					   "or text (the worst hosts)" },
	{ "top", 0, CLI_VALUE, "N", "text: hosts listed (default 10)" },
	{ "jobs", 'j', CLI_VALUE, "N", "analyze N hosts at a time, each on "
				       "one core (default 1)" },
	{ "no-hash", 0, CLI_FLAG, NULL, "skip the hash chain model (no "
				       "chain p99)" },
	{ "help", 'h', CLI_FLAG, NULL, "show this help" },
	{ 0 },
};

static const cli_opt diff_opts[] = {
	{ "format", 'f', CLI_VALUE, "FMT", "text (default) or json" },
	{ "help", 'h', CLI_FLAG, NULL, "show this help" },
	{ 0 },
};

static const cli_opt plan_opts[] = {
	{ "entries", 0, CLI_VALUE, "N", "entries the table holds today "
					"(required)" },
	{ "kernel", 0, CLI_VALUE, "VERSION", "kernel version (default: the "
					     "newest known)" },
	{ "to-kernel", 0, CLI_VALUE, "VERSION", "the kernel about to be "
						"rolled out: plan for it and "
						"show what changes from "
						"--kernel's defaults" },
	{ "mem", 0, CLI_VALUE, "SIZE", "MemTotal, e.g. 16G: gives the "
				       "kernel's default max and the memory "
				       "share (default: none, so neither)" },
	{ "cores", 0, CLI_VALUE, "N", "CPUs: adds the kube-proxy rule "
				      "(maxPerCore x N)" },
	PLAN_OPT_GROWTH,
	PLAN_OPT_MARGIN,
	PLAN_OPT_MAX_CHAIN,
	{ "evictable", 0, CLI_VALUE, "SHARE", "share of entries not ASSURED "
					      "(default 0.1): what a full "
					      "table may evict" },
	{ "format", 'f', CLI_VALUE, "FMT", "text (default) or json" },
	{ "help", 'h', CLI_FLAG, NULL, "show this help" },
	{ 0 },
};

static const cli_opt check_opts[] = {
	PLAN_OPT_MAX_CHAIN,
	PLAN_OPT_MARGIN,
	{ "max-nat-util", 0, CLI_VALUE, "SHARE", "busiest NAT group's port "
						 "range use allowed (default "
						 "0.8)" },
	PLAN_OPT_GROWTH,
	PLAN_OPT_PEAK,
	PLAN_OPT_SHRINK,
	{ "each", 0, CLI_FLAG, NULL, "every PATH is a host of its own (a "
				     "bundle, folder or dump); without it "
				     "the PATHs together are one host" },
	{ "kernel", 0, CLI_VALUE, "VERSION", "model this kernel version "
					     "(default: uname, else newest)" },
	{ "to-kernel", 0, CLI_VALUE, "VERSION", "judge the input on the "
						"kernel about to be rolled "
						"out: settings that are "
						"today's defaults take its "
						"defaults" },
	{ "no-hash", 0, CLI_FLAG, NULL, "judge chains by balls into bins, "
				       "not the hash model" },
	{ "strict", 0, CLI_FLAG, NULL, "stop at the first malformed line "
				       "(exit 2)" },
	{ "format", 'f', CLI_VALUE, "FMT", "text (default) or json" },
	{ "help", 'h', CLI_FLAG, NULL, "show this help" },
	{ 0 },
};

static const cli_cmd commands[] = {
	{ "analyze", "PATH...",
	  "read conntrack dumps, counters, sysctl, uname and meminfo outputs "
	  "and kernel logs (files, directories or - for stdin) and print an "
	  "inventory",
	  analyze_opts, cmd_analyze },
	{ "buckets", "PATH...",
	  "print the kernel's hash and bucket of every tuple for a known "
	  "key, as CSV",
	  buckets_opts, cmd_buckets },
	{ "fleet", "PATH...",
	  "one CSV row per host: PATHs are bundles, directories, dumps or "
	  "saved JSON reports",
	  fleet_opts, cmd_fleet },
	{ "diff", "OLD NEW",
	  "compare two snapshots of one host: growth by protocol and "
	  "state, new NAT remaps, counter deltas",
	  diff_opts, cmd_diff },
	{ "plan", "",
	  "recommend nf_conntrack_max and nf_conntrack_buckets for a number "
	  "of entries, without a dump",
	  plan_opts, cmd_plan },
	{ "check", "PATH...",
	  "check each host's dump against limits for CI: exit 0 all pass, 1 "
	  "a check failed, 2 bad input",
	  check_opts, cmd_check },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: ctplan COMMAND [OPTIONS] ARGS\n\n"
		     "Offline analyzer and capacity planner for Linux "
		     "netfilter conntrack.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\nRun 'ctplan COMMAND --help' for its options.\n\n"
		     "exit status:\n"
		     "  0  success\n"
		     "  1  a check failed (ctplan check)\n"
		     "  2  bad input or usage\n");
}

int cli_opt_index(const cli_cmd *cmd, const char *name)
{
	for (int i = 0; cmd->opts[i].name; i++)
		if (strcmp(cmd->opts[i].name, name) == 0)
			return i;
	assert(!"unknown option name");
	return 0;
}

const char *cli_get(const cli_cmd *cmd, const cli_args *a, const char *name)
{
	return a->val[cli_opt_index(cmd, name)];
}

int cli_parse_uint(const char *s, int base, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	uint64_t v = 0;

	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void cli_help(const cli_cmd *cmd, FILE *out)
{
	fprintf(out, "usage: ctplan %s [OPTIONS] %s\n\n%s\n\noptions:\n",
		cmd->name, cmd->args, cmd->summary);
	for (int i = 0; cmd->opts[i].name; i++) {
		const cli_opt *o = &cmd->opts[i];
		char left[64];
		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
				 o->short_name, o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
				 o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		fprintf(out, "  %-24s %s\n", left, o->help);
	}
	/* only check judges limits: the others never exit 1 */
	if (cmd->run == cmd_check)
		fprintf(out, "\nexit status: 0 success, 1 a check failed, "
			     "2 bad input or usage\n");
	else
		fprintf(out, "\nexit status: 0 success, 2 bad input or "
			     "usage\n");
}

static int find_opt(const cli_cmd *cmd, const char *arg, size_t n, int longp)
{
	for (int i = 0; cmd->opts[i].name; i++) {
		if (longp && strlen(cmd->opts[i].name) == n &&
		    strncmp(cmd->opts[i].name, arg, n) == 0)
			return i;
		if (!longp && cmd->opts[i].short_name == arg[0])
			return i;
	}
	return -1;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a)
{
	int only_pos = 0;

	memset(a, 0, sizeof(*a));
	a->pos = argv;
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		const char *val = NULL;
		int idx;

		if (only_pos || arg[0] != '-' || strcmp(arg, "-") == 0) {
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (arg[1] == '-') {
			const char *eq = strchr(arg + 2, '=');
			size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
			idx = find_opt(cmd, arg + 2, n, 1);
			if (eq)
				val = eq + 1;
		} else {
			idx = find_opt(cmd, arg + 1, 1, 0);
			/* "-j2": a short option's value may follow it, as
			 * getopt allows; a flag takes none */
			if (idx >= 0 && arg[2]) {
				if (cmd->opts[idx].type == CLI_VALUE)
					val = arg + 2;
				else
					idx = -1;
			}
		}
		if (idx < 0) {
			fprintf(stderr, "ctplan %s: unknown option '%s'\n"
					"Try 'ctplan %s --help'.\n",
				cmd->name, arg, cmd->name);
			return CTP_EXIT_INPUT;
		}
		if (cmd->opts[idx].type == CLI_VALUE && !val) {
			if (i + 1 >= argc) {
				fprintf(stderr,
					"ctplan %s: option '--%s' needs a "
					"value\nTry 'ctplan %s --help'.\n",
					cmd->name, cmd->opts[idx].name,
					cmd->name);
				return CTP_EXIT_INPUT;
			}
			val = argv[++i];
		} else if (cmd->opts[idx].type == CLI_FLAG && val) {
			fprintf(stderr, "ctplan %s: option '--%s' takes no "
					"value\n",
				cmd->name, cmd->opts[idx].name);
			return CTP_EXIT_INPUT;
		}
		if (strcmp(cmd->opts[idx].name, "help") == 0) {
			cli_help(cmd, stdout);
			return 1;
		}
		a->val[idx] = val ? val : "";
		a->count[idx]++;
		/* --ns applies to the paths after it: keep it in place */
		if (strcmp(cmd->opts[idx].name, "ns") == 0) {
			a->pos[a->npos++] = arg[1] == '-' && strchr(arg, '=')
						    ? arg
						    : argv[i - 1];
			if (!strchr(arg, '='))
				a->pos[a->npos++] = argv[i];
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return CTP_EXIT_INPUT;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CTP_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ctplan %s\n", CTPLAN_VERSION);
		return CTP_EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		rc = commands[i].run(&commands[i], argc - 2, argv + 2);
		/* report write failures on stdout (full disk, closed pipe) */
		if (fflush(stdout) == EOF || ferror(stdout)) {
			fprintf(stderr, "ctplan: error writing output: %s\n",
				strerror(errno));
			return CTP_EXIT_INPUT;
		}
		return rc;
	}
	fprintf(stderr, "ctplan: unknown command '%s'\nTry 'ctplan --help'.\n",
		argv[1]);
	return CTP_EXIT_INPUT;
}
