/*
 * History model: what the kernel logs say went wrong before the
 * snapshot: how often the conntrack table (and the expectation table)
 * was full, in bursts, with the drops that the rate limit kept out of the
 * log counted back in.  Key names are in docs/report.md ("history").
 *
 * Rate limit (lib/ratelimit.c ___ratelimit, net/core/utils.c
 * net_ratelimit): every networking warning shares one state, at most
 * net.core.message_burst (10) messages per net.core.message_cost (5 s).
 * A call past the burst is only counted ("missed"); the first call after
 * the interval is over prints "net_ratelimit: N callbacks suppressed"
 * and then its own message.  So N belongs to the messages printed before
 * that line, which may be hours earlier (the next storm prints it), and
 * the misses of the last interval before a log was saved are in no log
 * until a later message comes.  The 6.1 code also drops the calls that
 * find the state's lock taken without counting them (the 2025 rework,
 * torvalds/linux @084a990d, counts them), so N is a floor there.
 *
 * Logs: a bundle often holds the same messages several times (dmesg,
 * dmesg -T, the journal, kern.log).  One log, the one with most conntrack
 * messages, is counted; another is added only when its times are on the
 * same clock and do not overlap the counted ones (rotated syslog files).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
#include "ctplan/analyze.h"
#include "ctplan/history.h"
#include "ctplan/kernel.h"
#include "grow.h"

#define US_PER_S 1000000LL
#define NS_MAX CTP_HIST_NS_MAX
#define K_TABLE CTP_HIST_TABLE
#define K_EXPECT CTP_HIST_EXPECT
#define K_N CTP_HIST_KINDS
#define CLK_NONE CTP_CLK_NONE
#define CLK_BOOT CTP_CLK_BOOT
#define CLK_WALL CTP_CLK_WALL
#define CLK_NOYEAR CTP_CLK_NOYEAR
typedef ctp_hclock hclock;
typedef ctp_hlog hlog;
typedef ctp_hburst burst;

static const char *const clock_names[] = {
	"none", "boot", "wall", "wall-noyear",
};

static const char *const kind_keys[K_N] = { "table_full", "expect_full" };

const char *ctp_history_clock_name(ctp_hclock c)
{
	return (unsigned)c < 4 ? clock_names[c] : "none";
}

const char *ctp_history_kind_key(int kind)
{
	return kind >= 0 && kind < K_N ? kind_keys[kind] : NULL;
}

typedef struct hstate {
	const ctp_snapshot *snap;
	hclock clock;
	int64_t gap_us;
	burst *bursts;
	size_t nbursts, cap;
	size_t open[K_N];     /* index + 1 of the kind's open burst */
	uint64_t printed[K_N], suppressed[K_N];
	uint64_t unattributed;
	size_t last_rl;       /* burst + 1 of the last ratelimited message
				 * since the last suppressed line, or 0 */
	uint64_t boots;
} hstate;

static int is_ct_kind(int kind)
{
	return kind == CTP_KEV_TABLE_FULL || kind == CTP_KEV_EXPECT_FULL ||
	       kind == CTP_KEV_SUPPRESSED;
}

static int kind_index(int kind)
{
	return kind == CTP_KEV_TABLE_FULL    ? K_TABLE
	       : kind == CTP_KEV_EXPECT_FULL ? K_EXPECT
					     : -1;
}

/* An event's time on clock c; 0 if it has none. */
static int ev_time(const ctp_kevent *e, hclock c, int64_t *t)
{
	switch (c) {
	case CLK_BOOT:
		if (!(e->flags & CTP_KEV_F_BOOT))
			return 0;
		*t = e->boot_us;
		return 1;
	case CLK_WALL:
	case CLK_NOYEAR:
		if (!(e->flags & CTP_KEV_F_WALL) ||
		    !!(e->flags & CTP_KEV_F_NOYEAR) != (c == CLK_NOYEAR))
			return 0;
		*t = e->wall_us;
		return 1;
	default:
		return 0;
	}
}

/* The clock of a log: wall if its timed events all have one, else boot. */
static void log_clock(const ctp_snapshot *snap, hlog *l)
{
	const ctp_kevent *ev = ctp_snapshot_kevents(snap);
	size_t n = ctp_snapshot_kevent_count(snap);
	int timed = 0, wall = 1, noyear = 1, boot = 1;
	hclock c;

	for (size_t i = 0; i < n; i++) {
		if (ev[i].input != l->input ||
		    !(ev[i].flags & (CTP_KEV_F_BOOT | CTP_KEV_F_WALL)))
			continue;
		timed = 1;
		if (!(ev[i].flags & CTP_KEV_F_WALL))
			wall = 0;
		if (!(ev[i].flags & CTP_KEV_F_NOYEAR))
			noyear = 0;
		if (!(ev[i].flags & CTP_KEV_F_BOOT))
			boot = 0;
		if (is_ct_kind(ev[i].kind))
			l->events += ev[i].repeat;
	}
	if (!timed)
		c = CLK_NONE;
	else if (wall)
		c = noyear ? CLK_NOYEAR : CLK_WALL;
	else
		c = boot ? CLK_BOOT : CLK_NONE;
	l->clock = c;
	l->has_boot = timed && boot;
	l->first = INT64_MAX;
	l->last = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		int64_t t;
		if (ev[i].input != l->input || !ev_time(&ev[i], c, &t))
			continue;
		if (t < l->first)
			l->first = t;
		if (t > l->last)
			l->last = t;
	}
}

/* Order of preference for the counted log. */
static int better_log(const hlog *a, const hlog *b)
{
	if (a->events != b->events)
		return a->events > b->events;
	if (a->has_boot != b->has_boot)
		return a->has_boot > b->has_boot;
	return a->input < b->input;
}

static void choose_logs(hlog *logs, size_t n)
{
	size_t primary = 0;

	for (size_t i = 1; i < n; i++)
		if (better_log(&logs[i], &logs[primary]))
			primary = i;
	if (!n)
		return;
	logs[primary].used = 1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			hlog *l = &logs[i];
			if (l->used || l->why)
				continue;
			if (!l->events) {
				l->used = 1;
				continue;
			}
			if (pass == 0)
				continue;
			if (l->clock != logs[primary].clock ||
			    l->clock == CLK_NONE) {
				l->why = "another clock, most likely the "
					 "same messages";
				l->other = primary;
				continue;
			}
			if (l->clock == CLK_BOOT) {
				l->why = "times since a boot, most likely "
					 "the same messages";
				l->other = primary;
				continue;
			}
			for (size_t j = 0; j < n; j++)
				if (logs[j].used && logs[j].events &&
				    l->first <= logs[j].last &&
				    logs[j].first <= l->last) {
					l->why = "covers the same time";
					l->other = j;
					break;
				}
			if (!l->why)
				l->used = 1;
		}
}

static int new_burst(hstate *h, int k, int64_t t)
{
	burst *b;

	if (ctp_grow((void **)&h->bursts, &h->cap, h->nbursts + 1,
		     sizeof(*h->bursts)))
		return CTP_ENOMEM;
	b = &h->bursts[h->nbursts++];
	memset(b, 0, sizeof(*b));
	b->kind = k;
	b->first = b->last = t;
	h->open[k] = h->nbursts;
	return 0;
}

static void add_ns(burst *b, const ctp_kevent *e)
{
	if (!(e->flags & CTP_KEV_F_NETNS)) {
		b->no_ns = 1;
		return;
	}
	for (size_t i = 0; i < b->nns; i++)
		if (b->ns[i] == e->netns)
			return;
	if (b->nns < NS_MAX)
		b->ns[b->nns++] = e->netns;
	else
		b->ns_more = 1;
}

/* One event of the timeline at time t (have: it has a time). */
static int step(hstate *h, const ctp_kevent *e, int have, int64_t t,
		int64_t *prev, int *after_boot)
{
	int k = kind_index(e->kind);

	/* a new boot: the rate limit state starts over, bursts end */
	if (e->kind == CTP_KEV_BOOT ||
	    (have && h->clock == CLK_BOOT && *prev != INT64_MIN &&
	     t < *prev)) {
		h->boots += e->kind == CTP_KEV_BOOT;
		h->last_rl = 0;
		*after_boot = 1;
		memset(h->open, 0, sizeof(h->open));
		if (e->kind == CTP_KEV_BOOT)
			return 0;
	}
	if (have)
		*prev = t;
	else
		t = *prev == INT64_MIN ? 0 : *prev;
	if (k >= 0) {
		burst *b = h->open[k] ? &h->bursts[h->open[k] - 1] : NULL;
		if (!b || t - b->last > h->gap_us || t < b->last) {
			if (new_burst(h, k, t))
				return CTP_ENOMEM;
			b = &h->bursts[h->nbursts - 1];
		}
		b->last = t;
		b->count += e->repeat;
		add_ns(b, e);
		h->printed[k] += e->repeat;
		h->last_rl = h->open[k];
		*after_boot = 0;
	} else if (e->kind == CTP_KEV_SUPPRESSED) {
		uint64_t n = e->value * e->repeat;
		if (h->last_rl) {
			burst *b = &h->bursts[h->last_rl - 1];
			b->suppressed += n;
			h->suppressed[b->kind] += n;
		} else {
			h->unattributed += n;
		}
		/* the next count is of a later interval */
		h->last_rl = 0;
	}
	return 0;
}

/* ---- times ---- */

static const char *const mon[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Civil date of a day count from 1970-01-01. */
static void civil(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t yy = 1970;

	for (;;) {
		int leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
		int64_t len = leap ? 366 : 365;
		if (days < len) {
			static const int ml[12] = { 31, 28, 31, 30, 31, 30,
						    31, 31, 30, 31, 30, 31 };
			int mm = 0;
			while (mm < 11 && days >= ml[mm] + (mm == 1 && leap)) {
				days -= ml[mm] + (mm == 1 && leap);
				mm++;
			}
			*y = yy;
			*m = mm;
			*d = (int)days + 1;
			return;
		}
		days -= len;
		yy++;
	}
}

/* A time on clock c as text: "786.541314", "2026-11-26T18:32:10.541314",
 * "Nov 26 18:32:10" */
void ctp_history_fmt_time(ctp_hclock c, int64_t t, char *buf, size_t size)
{
	int64_t s = t / US_PER_S, us = t % US_PER_S;
	int64_t day = s / 86400, sod = s % 86400;

	if (t < 0) {
		snprintf(buf, size, "-");
		return;
	}
	switch (c) {
	case CLK_BOOT:
		snprintf(buf, size, "%" PRId64 ".%06" PRId64, s, us);
		break;
	case CLK_WALL: {
		int64_t y;
		int m, d;
		civil(day, &y, &m, &d);
		snprintf(buf, size,
			 "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%06" PRId64,
			 y, m + 1, d, (int)(sod / 3600), (int)(sod / 60 % 60),
			 (int)(sod % 60), us);
		break;
	}
	case CLK_NOYEAR: {
		/* days before each month of a leap year, and 366 */
		static const int cum[13] = {
			0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305,
			335, 366,
		};
		int doy = (int)(day % 366), m = 0;
		while (m < 11 && doy >= cum[m + 1])
			m++;
		snprintf(buf, size, "%s %2d %02d:%02d:%02d", mon[m],
			 doy - cum[m] + 1, (int)(sod / 3600),
			 (int)(sod / 60 % 60), (int)(sod % 60));
		break;
	}
	default:
		snprintf(buf, size, "-");
	}
}

/* Bursts named in a finding: "786.5-790.1 (942)"; at most three. */
static void burst_names(const hstate *h, int k, char *buf, size_t size)
{
	size_t used = 0, shown = 0, total = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < h->nbursts; i++)
		total += h->bursts[i].kind == k;
	for (size_t i = 0; i < h->nbursts && used + 1 < size; i++) {
		const burst *b = &h->bursts[i];
		char a[48], z[48];
		int n;
		if (b->kind != k)
			continue;
		if (shown == 3) {
			snprintf(buf + used, size - used, ", %zu more",
				 total - shown);
			break;
		}
		ctp_history_fmt_time(h->clock, b->first, a, sizeof(a));
		ctp_history_fmt_time(h->clock, b->last, z, sizeof(z));
		n = snprintf(buf + used, size - used, "%s%s%s%s: %" PRIu64,
			     shown ? ", " : "", a, strcmp(a, z) ? ".." : "",
			     strcmp(a, z) ? z : "", b->count + b->suppressed);
		if (n < 0)
			break;
		used += (size_t)n < size - used ? (size_t)n : size - used - 1;
		shown++;
	}
}

static int findings(const ctp_analysis *a, ctp_report *rep, const hstate *h)
{
	const ctp_host_num *cnt = ctp_host_count(a->host),
			   *mx = ctp_host_max(a->host);
	char names[400], now[64] = "", act[80];
	const char *max_act;
	size_t nb[K_N] = { 0 };

	for (size_t i = 0; i < h->nbursts; i++)
		nb[h->bursts[i].kind]++;
	/* the action is the recommendation's, which sized for this peak
	 * (the kernel log is peak evidence, include/ctplan/host.h) */
	max_act = ctp_max_action(a, act, sizeof(act));
	if (h->printed[K_TABLE]) {
		uint64_t least = h->printed[K_TABLE] + h->suppressed[K_TABLE];
		burst_names(h, K_TABLE, names, sizeof(names));
		/* today's use, as the table section rounds it */
		if (cnt->known && mx->known && mx->value)
			snprintf(now, sizeof(now), ", though it is at %.0f%% "
				 "now",
				 100.0 - round(10000.0 * ((double)mx->value -
							  (double)cnt->value) /
					       (double)mx->value) /
						 100);
		if (ctp_report_finding_act(
			    rep, CTP_FINDING_WARN, "history.table_full",
			    (double)least, NAN, max_act,
			    "the table overflowed %zu time%s (at least "
			    "%" PRIu64 " packets dropped: %s)%s; the planned "
			    "peak is at least nf_conntrack_max",
			    nb[K_TABLE], nb[K_TABLE] == 1 ? "" : "s", least,
			    names, now))
			return CTP_ENOMEM;
	}
	if (h->printed[K_EXPECT]) {
		uint64_t least =
			h->printed[K_EXPECT] + h->suppressed[K_EXPECT];
		burst_names(h, K_EXPECT, names, sizeof(names));
		if (ctp_report_finding_act(
			    rep, CTP_FINDING_WARN, "history.expect_full",
			    (double)least, NAN,
			    "raise nf_conntrack_expect_max",
			    "the expectation table was full %zu time%s (at "
			    "least %" PRIu64 " expectations refused: %s)",
			    nb[K_EXPECT], nb[K_EXPECT] == 1 ? "" : "s", least,
			    names))
			return CTP_ENOMEM;
	}
	return 0;
}

/* Sort key of a counted log: its first time, logs without times last. */
static int log_first_cmp(const void *pa, const void *pb)
{
	const hlog *a = *(const hlog *const *)pa, *b = *(const hlog *const *)pb;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->input < b->input ? -1 : a->input > b->input;
}

/*
 * The timeline of the kernel logs read: the logs chosen (one copy of each
 * message), in time order, grouped into bursts in *h.  *logs and *nlogs:
 * every log read, with whether it was counted.  Returns 0 with *nlogs 0
 * when no kernel log was read, or CTP_ENOMEM.
 */
static int build(const ctp_snapshot *snap, unsigned burst_gap, hstate *h,
		 hlog **logsp, size_t *nlogsp)
{
	size_t nin = ctp_snapshot_input_count(snap), nlogs = 0, nused = 0;
	const ctp_kevent *ev = ctp_snapshot_kevents(snap);
	size_t nev = ctp_snapshot_kevent_count(snap);
	hlog *logs = NULL, **order = NULL;

	memset(h, 0, sizeof(*h));
	*logsp = NULL;
	*nlogsp = 0;
	h->snap = snap;
	h->gap_us = (int64_t)burst_gap * US_PER_S;
	for (size_t i = 0; i < nin; i++)
		if (ctp_snapshot_input(snap, i)->formats & CTP_FMT_KMSG)
			nlogs++;
	if (!nlogs)
		return 0; /* no kernel log read */
	logs = calloc(nlogs, sizeof(*logs));
	order = calloc(nlogs, sizeof(*order));
	if (!logs || !order)
		goto oom;
	nlogs = 0;
	for (size_t i = 0; i < nin; i++)
		if (ctp_snapshot_input(snap, i)->formats & CTP_FMT_KMSG) {
			logs[nlogs].input = i;
			log_clock(snap, &logs[nlogs]);
			nlogs++;
		}
	choose_logs(logs, nlogs);
	for (size_t i = 0; i < nlogs; i++)
		if (logs[i].used && logs[i].events) {
			if (!nused)
				h->clock = logs[i].clock;
			order[nused++] = &logs[i];
		}
	qsort(order, nused, sizeof(*order), log_first_cmp);

	/* the timeline: counted logs in time order, each in line order */
	{
		int64_t prev = INT64_MIN;
		int after_boot = 0;
		for (size_t l = 0; l < nused; l++)
			for (size_t i = 0; i < nev; i++) {
				int64_t t = 0;
				int have;
				if (ev[i].input != order[l]->input)
					continue;
				have = ev_time(&ev[i], h->clock, &t);
				if (step(h, &ev[i], have, t, &prev,
					 &after_boot))
					goto oom;
			}
	}
	free(order);
	*logsp = logs;
	*nlogsp = nlogs;
	return 0;
oom:
	free(logs);
	free(order);
	free(h->bursts);
	h->bursts = NULL;
	return CTP_ENOMEM;
}

int ctp_history_summary(const ctp_snapshot *snap, unsigned burst_gap,
			ctp_history_sum *out)
{
	size_t nlogs;
	hlog *logs;
	hstate h;
	uint32_t seen[NS_MAX];
	size_t nseen = 0;
	int more = 0;

	memset(out, 0, sizeof(*out));
	if (build(snap, burst_gap, &h, &logs, &nlogs))
		return CTP_ENOMEM;
	for (size_t i = 0; i < h.nbursts; i++) {
		const burst *b = &h.bursts[i];

		if (b->kind != K_TABLE)
			continue;
		out->table_full_bursts++;
		out->table_full_least += b->count + b->suppressed;
		out->no_netns |= b->no_ns;
		for (size_t j = 0; j < b->nns; j++) {
			size_t k = 0;

			while (k < nseen && seen[k] != b->ns[j])
				k++;
			if (k == nseen && nseen < NS_MAX)
				seen[nseen++] = b->ns[j];
		}
		more |= b->ns_more;
	}
	out->netns_count = nseen + (more ? 1 : 0);
	out->netns = out->netns_count == 1 ? seen[0] : 0;
	free(h.bursts);
	free(logs);
	return 0;
}

void ctp_history_section_free(void *p)
{
	ctp_history_section *hs = p;

	if (!hs)
		return;
	free(hs->bursts);
	free(hs->logs);
	free(hs);
}

/* Per kind: the bursts' namespaces together, the first and last time. */
static void kind_totals(ctp_history_section *hs)
{
	for (size_t i = 0; i < hs->nbursts; i++) {
		const burst *b = &hs->bursts[i];
		burst *all = &hs->all[b->kind];

		if (!hs->nkind[b->kind]++)
			all->first = b->first;
		all->last = b->last;
		for (size_t j = 0; j < b->nns; j++) {
			ctp_kevent e;
			memset(&e, 0, sizeof(e));
			e.flags = CTP_KEV_F_NETNS;
			e.netns = b->ns[j];
			add_ns(all, &e);
		}
		all->no_ns |= b->no_ns;
		all->ns_more |= b->ns_more;
	}
}

/* the largest first (messages and suppressed), then the earliest */
static int burst_size_cmp(const void *pa, const void *pb)
{
	const burst *a = pa, *b = pb;
	uint64_t na = a->count + a->suppressed, nb = b->count + b->suppressed;

	if (na != nb)
		return na < nb ? 1 : -1;
	return (a->first > b->first) - (a->first < b->first);
}

static int burst_time_cmp(const void *pa, const void *pb)
{
	const burst *a = pa, *b = pb;

	if (a->first != b->first)
		return (a->first > b->first) - (a->first < b->first);
	return a->kind - b->kind;
}

/*
 * The burst list is bounded (issue 18: a million table-full lines 61 s
 * apart made a million bursts, 1.55 GB and a 280 MB report): the
 * CTP_HIST_BURSTS_LISTED largest are kept, in time order; the rest are
 * counted (bursts_not_listed, and their messages).  The per-kind totals
 * (kind_totals) are taken before, over every burst.
 */
static void bound_bursts(ctp_history_section *hs)
{
	if (hs->nbursts <= CTP_HIST_BURSTS_LISTED)
		return;
	qsort(hs->bursts, hs->nbursts, sizeof(*hs->bursts), burst_size_cmp);
	for (size_t i = CTP_HIST_BURSTS_LISTED; i < hs->nbursts; i++)
		hs->unlisted_messages +=
			hs->bursts[i].count + hs->bursts[i].suppressed;
	hs->unlisted = hs->nbursts - CTP_HIST_BURSTS_LISTED;
	hs->nbursts = CTP_HIST_BURSTS_LISTED;
	qsort(hs->bursts, hs->nbursts, sizeof(*hs->bursts), burst_time_cmp);
}

int ctp_history_report(const ctp_analysis *a, ctp_report *rep,
		       ctp_error *err)
{
	const ctp_snapshot *snap = a->snap;
	const ctp_analyze_opts *opts = &a->opts;
	ctp_history_section *hs = NULL;
	hlog *logs = NULL;
	size_t nlogs = 0;
	hstate h;
	ctp_kver kv;

	if (build(snap, opts ? opts->burst_gap : 60, &h, &logs, &nlogs))
		goto oom;
	if (!nlogs)
		return 0; /* no kernel log read: no section */
	hs = calloc(1, sizeof(*hs));
	if (!hs) {
		free(h.bursts);
		free(logs);
		goto oom;
	}
	hs->snap = snap;
	hs->clock = h.clock;
	hs->gap_us = h.gap_us;
	hs->logs = logs;
	hs->nlogs = nlogs;
	hs->bursts = h.bursts;
	hs->nbursts = h.nbursts;
	memcpy(hs->printed, h.printed, sizeof(hs->printed));
	memcpy(hs->suppressed, h.suppressed, sizeof(hs->suppressed));
	hs->unattributed = h.unattributed;
	hs->boots = h.boots;
	/* whether the messages name their namespace: known only from a
	 * kernel that was named, not the one assumed without uname */
	kv = ctp_host_kernel(a->host, NULL);
	/* the log was printed by the input's kernel, also when it is
	 * judged on another (--to-kernel) */
	if (ctp_host_upgrade_get(a->host))
		kv = ctp_host_upgrade_get(a->host)->from.upstream;
	if (!ctp_host_kernel_note(a->host) && kv.major >= 2)
		hs->names_netns = ctp_kernel_kmsg_netns(&kv);
	kind_totals(hs);
	if (ctp_report_add_section(rep, "history", CTP_SEC_HISTORY, hs,
				   ctp_history_section_free) ||
	    findings(a, rep, &h))
		goto oom;
	/* after the findings, which read every burst through h */
	bound_bursts(hs);
	return 0;
oom:
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
			     "out of memory in the history model");
}
