/*
 * ctplan command line: one function per subcommand, one option table per
 * subcommand from which --help is generated.  Includes only the public
 * headers of include/ctplan.
 */
#ifndef CTPLAN_CLI_H
#define CTPLAN_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctplan/analyze.h"
#include "ctplan/parse.h"

/* Exit codes, documented in --help and README.md. */
enum ctp_exit {
	CTP_EXIT_OK = 0,
	CTP_EXIT_CHECK_FAILED = 1, /* ctplan check: a limit was exceeded */
	CTP_EXIT_INPUT = 2,        /* bad input or usage */
};

typedef enum cli_opt_type {
	CLI_FLAG,   /* no value */
	CLI_VALUE,  /* takes a value: --name VALUE or --name=VALUE */
} cli_opt_type;

typedef struct cli_opt {
	const char *name; /* long name, without "--" */
	char short_name;  /* or 0 */
	cli_opt_type type;
	const char *metavar;
	const char *help;
} cli_opt;

typedef struct cli_cmd {
	const char *name;
	const char *args;    /* "PATH..." */
	const char *summary; /* one line */
	const cli_opt *opts; /* terminated by a zeroed entry */
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
} cli_cmd;

/* Parsed options: value of each option of cmd->opts by index (NULL when
 * not given; "" for a flag given), and the positional arguments. */
typedef struct cli_args {
	const char *val[32];
	int count[32];
	char **pos;
	int npos;
} cli_args;

/* Parse argv; prints usage errors on stderr.  Returns 0, 1 after --help
 * was printed, or CTP_EXIT_INPUT. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *out);
void cli_help(const cli_cmd *cmd, FILE *out);
/* Index of option name in cmd->opts (assert if missing). */
int cli_opt_index(const cli_cmd *cmd, const char *name);
const char *cli_get(const cli_cmd *cmd, const cli_args *a, const char *name);
/*
 * An option's number: digits of base 10, or 16 with an optional "0x";
 * nothing else, no sign, no blanks; value in [min, max].  0, or -1.
 */
int cli_parse_uint(const char *s, int base, uint64_t min, uint64_t max,
		   uint64_t *out);

int cmd_analyze(const cli_cmd *cmd, int argc, char **argv);
int cmd_buckets(const cli_cmd *cmd, int argc, char **argv);
int cmd_fleet(const cli_cmd *cmd, int argc, char **argv);
int cmd_diff(const cli_cmd *cmd, int argc, char **argv);
int cmd_plan(const cli_cmd *cmd, int argc, char **argv);
int cmd_check(const cli_cmd *cmd, int argc, char **argv);

/* cli/cmd_plan.c: the planner options cmd has (--margin, --max-chain,
 * --growth, --peak, --cores, --mem, --max-nat-util, --evictable, and
 * --kernel into ao when ao is not NULL) into o; CTP_EXIT_INPUT after a
 * message on a bad value. */
struct ctp_plan_opts;
int cli_plan_options(const cli_cmd *cmd, const cli_args *a,
		     struct ctp_plan_opts *o, ctp_analyze_opts *ao);
/* --kernel and --to-kernel (release strings, ctp_kernel_identify) into
 * ao; CTP_EXIT_INPUT after a message on one that does not parse. */
int cli_kernel_options(const cli_cmd *cmd, const cli_args *a,
		       ctp_analyze_opts *ao);

/* cli/run.c: read paths[0 .. n) into one new snapshot (one host) and
 * run the models on it; 0, or CTP_EXIT_INPUT after a message on stderr
 * (then both are NULL), also when the input holds nothing to analyze.
 * The caller frees both.  cli_analyze_path: one path. */
int cli_analyze_paths(const char *const *paths, int n,
		      const ctp_parse_opts *popts,
		      const ctp_analyze_opts *aopts, ctp_snapshot **snap,
		      ctp_report **rep);
int cli_analyze_path(const char *path, const ctp_parse_opts *popts,
		     const ctp_analyze_opts *aopts, ctp_snapshot **snap,
		     ctp_report **rep);
/* The message for input that held nothing to analyze (what was read
 * and skipped), on stderr; first is the first of npaths paths. */
void cli_nothing_to_analyze(const ctp_snapshot *snap, const char *first,
			    int npaths);
/* The host's name: uname -a's nodename, sysctl kernel.hostname, else the bundle's file name
 * without "sosreport-" and archive suffixes.  Returns buf. */
const char *cli_host_name(const ctp_snapshot *snap, const char *path,
			  char *buf, size_t size);

/* The bundle's or file's name of path, without "sosreport-" and archive
 * suffixes.  Returns buf. */
const char *cli_host_name_of_path(const char *path, char *buf,
				  size_t size);
/* The report's "host": the name as cli_host_name gives it (uname -a's
 * nodename first) and what gave it, and the capture time the input
 * shows.  0 or CTP_ENOMEM. */
int cli_name_report(ctp_report *rep, const ctp_snapshot *snap,
		    const char *path);

/* cli/progress.c: a status line on stderr for runs over a second, only
 * when stderr is a terminal (start returns NULL otherwise; every other
 * function accepts NULL). */
typedef struct cli_progress cli_progress;
cli_progress *cli_progress_start(const ctp_snapshot *snap);
/* ctp_parse_opts.progress, with the cli_progress as ud */
void cli_progress_bytes(void *ud, uint64_t bytes);
void cli_progress_phase(cli_progress *p, const char *phase);
/* erase the line and keep it off while the caller prints to stderr */
void cli_progress_hold(cli_progress *p);
void cli_progress_release(cli_progress *p);
void cli_progress_stop(cli_progress *p);

#endif
