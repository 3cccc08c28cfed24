/*
 * ctplan command line: one function per subcommand, one option table per
 * subcommand from which --help is generated.  Includes only the public
 * headers of include/ctplan.
 */
#ifndef CTPLAN_CLI_H
#define CTPLAN_CLI_H

#include <stddef.h>
#include <stdio.h>

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

int cmd_analyze(const cli_cmd *cmd, int argc, char **argv);

#endif
