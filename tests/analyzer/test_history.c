/* history model (analyzer/history.c): bursts, the rate limit's counts,
 * which logs are counted, findings */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/report_tree.h"
#include "ctplan/analyze.h"
#include "ctplan/parse.h"

/* the model alone, on an analysis of snap (the host context) */
static int run_history_report(const ctp_snapshot *snap,
			  const ctp_analyze_opts *opts, ctp_report *rep,
			  ctp_error *err)
{
	ctp_analysis *a;
	int rc = ctp_analysis_new(snap, opts, &a, err);

	if (!rc)
		rc = ctp_history_report(a, rep, err);
	ctp_analysis_free(a);
	return rc;
}

#define US 1000000LL
#define NS1 4026532177u
#define NS2 4026532300u
#define SAMPLES CTPLAN_SOURCE_DIR "/samples/kmsg/lab-6.18"

enum { TF = CTP_KEV_TABLE_FULL, EF = CTP_KEV_EXPECT_FULL,
       SUP = CTP_KEV_SUPPRESSED, BOOT = CTP_KEV_BOOT };
enum { B = CTP_KEV_F_BOOT, W = CTP_KEV_F_WALL,
       NY = CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR };

/* one event: input, kind, clock flags, time in ms, netns (0 none),
 * value (SUPPRESSED: N), repeat (0 = 1) */
typedef struct ev {
	int input, kind;
	unsigned clock;
	int64_t ms;
	uint32_t netns;
	uint64_t value;
	uint32_t repeat;
} ev;

typedef struct want_burst {
	uint64_t count, suppressed;
} want_burst;

#define MAXEV 32
#define MAXB 4

typedef struct scenario {
	const char *name;
	int ninputs;
	unsigned gap;          /* --burst-gap */
	const char *uname;     /* a uname -r line to read, or NULL */
	ev evs[MAXEV];
	/* table_full */
	uint64_t printed, suppressed, unattributed;
	size_t nbursts;
	want_burst bursts[MAXB];
	const char *ns;        /* table_full.namespaces joined with ',' */
	int counted[3];        /* per input: 1 counted, 0 not */
	uint64_t expect_printed;
} scenario;

/* the lab run of samples/kmsg/lab-6.18/after-flush, in ms */
#define LAB_EVENTS                                                      \
	{ 0, TF, B, 1734746, NS1, 0, 9 }, { 0, SUP, B, 1741844, 0, 288, 0 }, \
	{ 0, TF, B, 1741845, NS1, 0, 10 },                                \
	{ 0, SUP, B, 1748140, 0, 138, 0 }, { 0, TF, B, 1748141, NS1, 0, 0 }

static const scenario scenarios[] = {
	{ "lab, short gap: the count belongs to the burst before", 1, 3,
	  "6.18.44-fc-v657", { LAB_EVENTS }, 20, 426, 0, 3,
	  { { 9, 288 }, { 10, 138 }, { 1, 0 } }, "4026532177", { 1 }, 0 },
	{ "lab, default gap: one burst", 1, 60, NULL, { LAB_EVENTS }, 20, 426,
	  0, 1, { { 20, 426 } }, "4026532177", { 1 }, 0 },
	{ "a count with no conntrack message before it is another's", 1, 60,
	  NULL,
	  { { 0, SUP, B, 1000, 0, 50, 0 }, { 0, TF, B, 2000, 0, 0, 0 },
	    { 0, SUP, B, 9000, 0, 7, 0 }, { 0, SUP, B, 19000, 0, 4, 0 } },
	  1, 7, 54, 1, { { 1, 7 } }, "unknown", { 1 }, 0 },
	{ "a boot starts the rate limit over", 1, 60, NULL,
	  { { 0, TF, B, 1000, 0, 0, 10 }, { 0, BOOT, 0, 0, 0, 0, 0 },
	    { 0, SUP, B, 3000, 0, 90, 0 }, { 0, TF, B, 3001, 0, 0, 0 } },
	  11, 0, 90, 2, { { 10, 0 }, { 1, 0 } }, "unknown", { 1 }, 0 },
	{ "boot times going back: a new boot", 1, 600, NULL,
	  { { 0, TF, B, 500000, 0, 0, 10 }, { 0, TF, B, 1000, 0, 0, 0 },
	    { 0, SUP, B, 9000, 0, 3, 0 } },
	  11, 3, 0, 2, { { 10, 0 }, { 1, 3 } }, "unknown", { 1 }, 0 },
	{ "netns and init_net on 6.17+; repeats", 1, 60, "6.18.44",
	  { { 0, TF, B, 1000, NS1, 0, 0 }, { 0, TF, B, 1100, 0, 0, 5 },
	    { 0, TF, B, 1200, NS2, 0, 0 } },
	  7, 0, 0, 1, { { 7, 0 } }, "4026532177,4026532300,init", { 1 }, 0 },
	{ "dmesg and dmesg -T of one boot: counted once", 2, 60, NULL,
	  { { 0, TF, B, 1000, NS1, 0, 10 }, { 0, SUP, B, 7000, 0, 5, 0 },
	    { 0, TF, B, 7001, NS1, 0, 0 }, { 1, TF, W, 1000, NS1, 0, 10 },
	    { 1, SUP, W, 7000, 0, 5, 0 }, { 1, TF, W, 7001, NS1, 0, 0 } },
	  11, 5, 0, 1, { { 11, 5 } }, "4026532177", { 1, 0 }, 0 },
	{ "rotated syslog files: both counted", 3, 60, NULL,
	  { { 0, TF, NY, 900000, 0, 0, 10 }, { 0, SUP, NY, 960000, 0, 20, 0 },
	    { 0, TF, NY, 960001, 0, 0, 0 }, { 1, TF, NY, 100000, 0, 0, 4 },
	    /* the same time as input 0: not counted */
	    { 2, TF, NY, 900000, 0, 0, 5 }, { 2, TF, NY, 960001, 0, 0, 0 } },
	  15, 20, 0, 3, { { 4, 0 }, { 10, 20 }, { 1, 0 } }, "unknown",
	  { 1, 1, 0 }, 0 },
	{ "expectations: their own bursts and count", 1, 60, NULL,
	  { { 0, TF, B, 1000, 0, 0, 2 }, { 0, EF, B, 1500, 0, 0, 10 },
	    { 0, SUP, B, 8000, 0, 30, 0 }, { 0, EF, B, 8001, 0, 0, 0 } },
	  2, 0, 0, 1, { { 2, 0 } }, "unknown", { 1 }, 11 },
};

static void add_events(ctp_snapshot *snap, const scenario *sc)
{
	for (int i = 0; i < sc->ninputs; i++) {
		char path[32];
		uint16_t in;
		snprintf(path, sizeof(path), "log%d", i);
		assert_int_equal(ctp_snapshot_add_input(snap, path, NULL, &in),
				 0);
		ctp_snapshot_input_mut(snap, in)->formats |= CTP_FMT_KMSG;
		ctp_snapshot_input_mut(snap, in)->lines = 1;
	}
	for (int i = 0; i < MAXEV && sc->evs[i].kind; i++) {
		const ev *e = &sc->evs[i];
		ctp_kevent k;
		memset(&k, 0, sizeof(k));
		k.input = (uint16_t)e->input;
		k.kind = (uint8_t)e->kind;
		k.flags = (uint8_t)e->clock;
		if (e->clock & CTP_KEV_F_BOOT)
			k.boot_us = e->ms * 1000;
		if (e->clock & CTP_KEV_F_WALL)
			k.wall_us = e->ms * 1000 + 1700000000LL * US *
						       !(e->clock &
							 CTP_KEV_F_NOYEAR);
		if (e->netns) {
			k.netns = e->netns;
			k.flags |= CTP_KEV_F_NETNS;
		}
		k.value = e->value;
		k.repeat = e->repeat ? e->repeat : 1;
		k.line = (uint32_t)i + 1;
		assert_int_equal(ctp_snapshot_add_kevent(snap, &k), 0);
	}
}

static json_int_t geti(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", k);
	return json_integer_value(v);
}

static void joined(json_t *arr, char *buf, size_t size)
{
	size_t i, used = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 i ? "," : "", json_string_value(v));
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
		const scenario *sc = &scenarios[s];
		ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
		ctp_snapshot *snap;
		ctp_report *rep;
		ctp_error err = CTP_ERROR_INIT;
		json_t *h, *t, *bursts, *b, *logs;
		size_t i, nb = 0;
		char ns[256];

		assert_int_equal(ctp_snapshot_new(&snap), 0);
		assert_int_equal(ctp_report_new(&rep), 0);
		add_events(snap, sc);
		if (sc->uname) {
			ctp_error e2 = CTP_ERROR_INIT;
			assert_int_equal(ctp_parse_buffer(snap, "uname_-r",
							  sc->uname,
							  strlen(sc->uname),
							  NULL, &e2),
					 0);
		}
		o.burst_gap = sc->gap;
		assert_int_equal(ctp_snapshot_finalize(snap), 0);
		assert_int_equal(run_history_report(snap, &o, rep, &err), 0);
		h = json_object_get(ctp_report_root(rep), "history");
		assert_non_null(h);
		t = json_object_get(h, "table_full");
		if ((uint64_t)geti(t, "printed") != sc->printed ||
		    (uint64_t)geti(t, "suppressed") != sc->suppressed ||
		    (uint64_t)geti(h, "suppressed_unattributed") !=
			    sc->unattributed ||
		    (size_t)geti(t, "bursts") != sc->nbursts)
			fail_msg("%s: printed %lld suppressed %lld "
				 "unattributed %lld bursts %lld",
				 sc->name, (long long)geti(t, "printed"),
				 (long long)geti(t, "suppressed"),
				 (long long)geti(h, "suppressed_unattributed"),
				 (long long)geti(t, "bursts"));
		assert_int_equal(geti(t, "at_least"),
				 sc->printed + sc->suppressed);
		bursts = json_object_get(h, "bursts");
		json_array_foreach(bursts, i, b) {
			const char *kind =
				json_string_value(json_object_get(b, "kind"));
			if (strcmp(kind, "table_full") != 0)
				continue;
			assert_true(nb < sc->nbursts);
			if ((uint64_t)geti(b, "count") !=
				    sc->bursts[nb].count ||
			    (uint64_t)geti(b, "suppressed") !=
				    sc->bursts[nb].suppressed)
				fail_msg("%s: burst %zu %lld + %lld", sc->name,
					 nb, (long long)geti(b, "count"),
					 (long long)geti(b, "suppressed"));
			nb++;
		}
		assert_int_equal(nb, sc->nbursts);
		joined(json_object_get(t, "namespaces"), ns, sizeof(ns));
		if (strcmp(ns, sc->ns) != 0)
			fail_msg("%s: namespaces '%s', want '%s'", sc->name,
				 ns, sc->ns);
		logs = json_object_get(h, "logs");
		assert_int_equal(json_array_size(logs), sc->ninputs);
		for (int l = 0; l < sc->ninputs; l++) {
			json_t *lg = json_array_get(logs, (size_t)l);
			if (json_is_true(json_object_get(lg, "counted")) !=
			    sc->counted[l])
				fail_msg("%s: log %d counted %d", sc->name, l,
					 !sc->counted[l]);
			assert_true(sc->counted[l] ||
				    json_is_string(json_object_get(
					    lg, "not_counted_because")));
		}
		assert_int_equal(geti(json_object_get(h, "expect_full"),
				      "printed"),
				 sc->expect_printed);
		ctp_report_free(rep);
		ctp_snapshot_free(snap);
	}
}

/* The finding: the bursts, the drops, and today's use of the table. */
static void test_finding(void **state)
{
	static const scenario sc = {
		"lab", 1, 3, NULL, { LAB_EVENTS }, 20, 426, 0, 3,
		{ { 0, 0 } }, "", { 1 }, 0,
	};
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	ctp_snapshot *snap;
	ctp_report *rep;
	ctp_error err = CTP_ERROR_INIT;
	json_t *f;
	size_t i;
	int seen = 0;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_report_new(&rep), 0);
	add_events(snap, &sc);
	o.burst_gap = 3;
	/* today's use: 30 of 1000, 97% of max free */
	assert_int_equal(ctp_parse_buffer(snap, "sysctl",
					  "net.netfilter.nf_conntrack_max = "
					  "1000\nnet.netfilter."
					  "nf_conntrack_count = 30\n",
					  76, NULL, &err),
			 0);
	assert_int_equal(run_history_report(snap, &o, rep, &err), 0);
	json_array_foreach(json_object_get(ctp_report_root(rep), "findings"),
			   i, f) {
		const char *code =
			json_string_value(json_object_get(f, "code"));
		const char *adv =
			json_string_value(json_object_get(f, "advice"));
		if (strcmp(code, "history.table_full") != 0)
			continue;
		seen = 1;
		assert_string_equal(
			adv, "the table overflowed 3 times (at least 446 "
			     "packets dropped: 1734.746000: 297, 1741.845000: "
			     "148, 1748.141000: 1), though it is at 3% now; "
			     "the planned peak is at least nf_conntrack_max");
		assert_int_equal(json_real_value(json_object_get(f, "figure")),
				 446);
	}
	assert_true(seen);
	ctp_report_free(rep);
	ctp_snapshot_free(snap);
}

/* No kernel log: no section, no finding. */
static void test_no_log(void **state)
{
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	ctp_snapshot *snap;
	ctp_report *rep;
	ctp_error err = CTP_ERROR_INIT;
	uint16_t in;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(ctp_snapshot_add_input(snap, "x", NULL, &in), 0);
	assert_int_equal(run_history_report(snap, &o, rep, &err), 0);
	assert_null(json_object_get(ctp_report_root(rep), "history"));
	assert_int_equal(json_array_size(json_object_get(
				 ctp_report_root(rep), "findings")),
			 0);
	ctp_report_free(rep);
	ctp_snapshot_free(snap);
}

/* The committed lab logs end to end: every form gives the lab's figures. */
static void test_lab_samples(void **state)
{
	static const char *const files[] = {
		"dmesg", "dmesg_-T", "dmesg_--time-format_iso", "dmesg_-x",
		"journalctl_-k_-o_short", "journalctl_-k_-o_short-precise",
		"journalctl_-k_-o_short-iso",
		"journalctl_-k_-o_short-iso-precise",
		"journalctl_-k_-o_short-monotonic",
	};
	/* after-flush: 446 drops in the kernel's counter (conntrack_-S) */
	static const struct {
		const char *dir;
		uint64_t printed, suppressed;
		size_t bursts;
	} runs[] = {
		{ "before-flush", 19, 288, 2 },
		{ "after-flush", 20, 426, 3 },
	};

	(void)state;
	for (size_t r = 0; r < 2; r++)
		for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
			ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
			ctp_snapshot *snap;
			ctp_report *rep;
			ctp_error err = CTP_ERROR_INIT;
			char path[512];
			json_t *t;

			snprintf(path, sizeof(path),
				 SAMPLES "/%s/%s",
				 runs[r].dir, files[f]);
			assert_int_equal(ctp_snapshot_new(&snap), 0);
			assert_int_equal(ctp_report_new(&rep), 0);
			assert_int_equal(ctp_parse_path(snap, path, NULL, &err),
					 0);
			assert_int_equal(ctp_snapshot_finalize(snap), 0);
			o.burst_gap = 3;
			assert_int_equal(run_history_report(snap, &o, rep,
							    &err),
					 0);
			t = json_object_get(ctp_report_root(rep), "history");
			t = json_object_get(t, "table_full");
			if ((uint64_t)geti(t, "printed") != runs[r].printed ||
			    (uint64_t)geti(t, "suppressed") !=
				    runs[r].suppressed ||
			    (size_t)geti(t, "bursts") != runs[r].bursts)
				fail_msg("%s: %lld + %lld in %lld bursts", path,
					 (long long)geti(t, "printed"),
					 (long long)geti(t, "suppressed"),
					 (long long)geti(t, "bursts"));
			ctp_report_free(rep);
			ctp_snapshot_free(snap);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_finding),
		cmocka_unit_test(test_no_log),
		cmocka_unit_test(test_lab_samples),
	};

	return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
