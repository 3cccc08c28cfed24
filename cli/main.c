#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_opt analyze_opts[] = {
	{ "format", 'f', CLI_VALUE, "FMT", "output format: text or json "
					   "(default text)" },
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
	{ "help", 'h', CLI_FLAG, NULL, "show this help" },
	{ 0 },
};

static const cli_cmd commands[] = {
	{ "analyze", "PATH...",
	  "read conntrack dumps, counters, sysctl, uname and meminfo outputs "
	  "(files, directories or - for stdin) and print an inventory",
	  analyze_opts, cmd_analyze },
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
	fprintf(out, "\nexit status: 0 success, 1 a check failed, "
		     "2 bad input or usage\n");
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
			idx = arg[2] ? -1 : find_opt(cmd, arg + 1, 1, 0);
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
		printf("ctplan 0.1.0\n");
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
