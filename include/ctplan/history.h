/*
 * The history model's typed result (analyzer/history.c): the kernel
 * logs read, which were counted, and the conntrack messages in bursts
 * on one clock.  Report section "history" (docs/report.md);
 * render/json_history.c writes it.
 */
#ifndef CTPLAN_HISTORY_H
#define CTPLAN_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/snapshot.h"

#define CTP_HIST_NS_MAX 8 /* namespaces listed per burst */
#define CTP_HIST_BURSTS_LISTED 200 /* the largest bursts listed */

/* clocks a log's times are on */
typedef enum ctp_hclock {
	CTP_CLK_NONE = 0, /* no times */
	CTP_CLK_BOOT,     /* seconds since boot (dmesg) */
	CTP_CLK_WALL,     /* a date with a year */
	CTP_CLK_NOYEAR,   /* a syslog date without a year */
} ctp_hclock;

/* the kinds with bursts */
enum { CTP_HIST_TABLE = 0, CTP_HIST_EXPECT, CTP_HIST_KINDS };

typedef struct ctp_hlog {
	size_t input;
	uint64_t events;     /* conntrack events (lines they stand for) */
	ctp_hclock clock;
	int has_boot;        /* every timed event also has a boot time */
	int64_t first, last; /* range on clock */
	int used;
	const char *why;     /* not used: why; static text */
	size_t other;        /* the log it overlaps */
} ctp_hlog;

typedef struct ctp_hburst {
	int kind;
	int64_t first, last;
	uint64_t count, suppressed;
	uint32_t ns[CTP_HIST_NS_MAX];
	size_t nns;
	int ns_more; /* more namespaces than CTP_HIST_NS_MAX */
	int no_ns;   /* a message without a namespace */
} ctp_hburst;

typedef struct ctp_history_section {
	const ctp_snapshot *snap;
	ctp_hclock clock;
	int64_t gap_us;
	ctp_hlog *logs;
	size_t nlogs;
	ctp_hburst *bursts;
	size_t nbursts;
	/* per kind: the bursts' namespaces together, first and last */
	ctp_hburst all[CTP_HIST_KINDS];
	size_t nkind[CTP_HIST_KINDS];
	uint64_t printed[CTP_HIST_KINDS], suppressed[CTP_HIST_KINDS];
	uint64_t unattributed, boots;
	int names_netns; /* messages without a namespace are init's */
	/* bursts past the CTP_HIST_BURSTS_LISTED largest: not in bursts[],
	 * counted here with their messages (printed and suppressed) */
	uint64_t unlisted, unlisted_messages;
} ctp_history_section;

void ctp_history_section_free(void *sec);
/* "none", "boot", "wall", "wall-noyear" */
const char *ctp_history_clock_name(ctp_hclock c);
/* "table_full", "expect_full" */
const char *ctp_history_kind_key(int kind);
/* A time on clock c as text: "786.541314", "2026-11-26T18:32:10.541314",
 * "Nov 26 18:32:10"; "-" for none */
void ctp_history_fmt_time(ctp_hclock c, int64_t t, char *buf, size_t size);

#endif
