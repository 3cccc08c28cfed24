/*
 * Inventory model: what was read, the entries by kind, the table's count,
 * settings and headroom, and the counters, as a typed result
 * (include/ctplan/inventory.h); findings on headroom and counters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
#include "ctplan/analyze.h"
#include "ctplan/flow.h"
#include "ctplan/inventory.h"
#include "ctplan/kernel.h"
#include "grow.h"

const ctp_stat ctp_inventory_stats[CTP_INV_STATS] = {
	CTP_STAT_FOUND,		 CTP_STAT_INVALID,	CTP_STAT_IGNORE,
	CTP_STAT_INSERT,	 CTP_STAT_INSERT_FAILED, CTP_STAT_DROP,
	CTP_STAT_EARLY_DROP,	 CTP_STAT_ERROR,	CTP_STAT_SEARCH_RESTART,
	CTP_STAT_CLASH_RESOLVE, CTP_STAT_CHAINTOOLONG,	CTP_STAT_SEARCHED,
	CTP_STAT_NEW,		 CTP_STAT_DELETE,	CTP_STAT_DELETE_LIST,
	CTP_STAT_EXPECT_NEW,	 CTP_STAT_EXPECT_CREATE, CTP_STAT_EXPECT_DELETE,
};

int ctp_tallies_add(ctp_tallies *t, const char *key, uint64_t n)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0) {
			t->v[i].n += n;
			return 0;
		}
	if (ctp_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return CTP_ENOMEM;
	snprintf(t->v[t->n].key, sizeof(t->v[t->n].key), "%s", key);
	t->v[t->n++].n = n;
	return 0;
}

uint64_t ctp_tallies_get(const ctp_tallies *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return t->v[i].n;
	return 0;
}

void ctp_inventory_free(void *p)
{
	ctp_inventory *inv = p;

	if (!inv)
		return;
	free(inv->family.v);
	free(inv->protocol.v);
	free(inv->state.v);
	free(inv->zone.v);
	free(inv->ns);
	free(inv);
}

/* by_state key: TCP states bare ("ESTABLISHED"), others "sctp:CLOSED" */
static void state_key(const ctp_flow *f, char *buf, size_t size)
{
	if (f->proto == CTP_P_TCP)
		snprintf(buf, size, "%s", ctp_state_name(f->state));
	else
		snprintf(buf, size, "%s:%s", ctp_proto_name(f->proto),
			 ctp_state_name(f->state));
}

/*
 * Counters of one pass over the flows, turned into named tallies once at
 * the end: a lookup by name per flow and key was most of the time of
 * this model on a 4M-entry table.  Keys keep the order in which they were
 * first seen (the tallies keep insertion order, and the reports show
 * it), so each counter table remembers that order beside the counts.
 */
typedef struct counts {
	uint64_t family[256], proto[256];
	uint64_t state[256][CTP_STATE_COUNT];
	uint64_t zone[65536];
	/* first-seen order: family and proto numbers, proto << 8 | state,
	 * zones */
	uint8_t family_order[256], proto_order[256];
	uint16_t state_order[256 * CTP_STATE_COUNT];
	uint16_t zone_order[65536];
	size_t nfamily, nproto, nstate, nzone;
} counts;

static void count_flow(counts *c, const ctp_flow *f)
{
	uint8_t st = f->state < CTP_STATE_COUNT ? f->state : 0;

	if (!c->family[f->family]++)
		c->family_order[c->nfamily++] = f->family;
	if (!c->proto[f->proto]++)
		c->proto_order[c->nproto++] = f->proto;
	/* a state out of range is named "" by ctp_state_name(), as state
	 * 0 is: count it in slot 0, under the same key */
	if (f->state && !c->state[f->proto][st]++)
		c->state_order[c->nstate++] =
			(uint16_t)(f->proto * CTP_STATE_COUNT + st);
	if (!c->zone[f->zone]++)
		c->zone_order[c->nzone++] = f->zone;
}

static int entries_section(const ctp_snapshot *snap, ctp_inventory *inv)
{
	size_t n = ctp_snapshot_flow_count(snap);
	counts *c = calloc(1, sizeof(*c));
	int rc = CTP_ENOMEM;

	if (!c)
		goto done;
	/* both families always present, so consumers need no default */
	if (ctp_tallies_add(&inv->family, "ipv4", 0) ||
	    ctp_tallies_add(&inv->family, "ipv6", 0))
		goto done;
	for (size_t i = 0; i < n; i++) {
		ctp_flow f;

		ctp_snapshot_flow_get(snap, i, &f);
		if (f.flags & CTP_F_EVENT) {
			inv->events++;
			continue;
		}
		if (f.flags & CTP_F_DUP) {
			inv->duplicates++;
			continue;
		}
		inv->total++;
		count_flow(c, &f);
		inv->assured += !!(f.flags & CTP_F_ASSURED);
		inv->unreplied += !!(f.flags & CTP_F_UNREPLIED);
		inv->offloaded +=
			!!(f.flags & (CTP_F_OFFLOAD | CTP_F_HW_OFFLOAD));
	}
	/* names may repeat ("unknown" for every unnamed protocol): they
	 * add up under the first one's key */
	for (size_t i = 0; i < c->nfamily; i++) {
		uint8_t v = c->family_order[i];
		if (ctp_tallies_add(&inv->family, ctp_family_name(v),
				    c->family[v]))
			goto done;
	}
	for (size_t i = 0; i < c->nproto; i++) {
		uint8_t v = c->proto_order[i];
		char pb[16];
		if (ctp_tallies_add(&inv->protocol,
				    ctp_proto_label(v, pb, sizeof(pb)),
				    c->proto[v]))
			goto done;
	}
	for (size_t i = 0; i < c->nstate; i++) {
		ctp_flow f;
		char key[48];
		f.proto = (uint8_t)(c->state_order[i] / CTP_STATE_COUNT);
		f.state = (uint8_t)(c->state_order[i] % CTP_STATE_COUNT);
		state_key(&f, key, sizeof(key));
		if (ctp_tallies_add(&inv->state, key,
				    c->state[f.proto][f.state]))
			goto done;
	}
	for (size_t i = 0; i < c->nzone; i++) {
		char key[8];
		uint16_t z = c->zone_order[i];
		snprintf(key, sizeof(key), "%u", z);
		if (ctp_tallies_add(&inv->zone, key, c->zone[z]))
			goto done;
	}
	rc = 0;
done:
	free(c);
	return rc;
}

static int table_section(const ctp_analysis *a, ctp_inventory *inv,
			 ctp_report *rep)
{
	char abuf[80];
	const char *max_act = ctp_max_action(a, abuf, sizeof(abuf));
	uint64_t count, max;
	int rc = 0;

	inv->count = *ctp_host_count(a->host);
	inv->max = *ctp_host_max(a->host);
	inv->buckets = *ctp_host_buckets(a->host);
	if (ctp_host_upgrade_get(a->host)) {
		inv->max_projected = ctp_host_upgrade_get(a->host)->max_moved;
		inv->buckets_projected =
			ctp_host_upgrade_get(a->host)->buckets_moved;
	}
	inv->has_full_drop_p = a->plan_ran;
	inv->full_drop_p = a->table_full_drop_p;
	if (!inv->count.known || !inv->max.known)
		return 0;
	count = inv->count.value;
	max = inv->max.value;
	{
		double pct = max ? 100.0 * ((double)max - (double)count) /
					   (double)max
				 : 0.0;
		inv->has_headroom = 1;
		inv->headroom = (int64_t)max - (int64_t)count;
		inv->headroom_pct = round(pct * 100) / 100;
		if (max && count >= max)
			rc = ctp_report_finding_act(
				rep, CTP_FINDING_CRIT, "table.full",
				(double)count, (double)max, max_act,
				"%s: new flows are dropped unless an "
				"unassured entry can be evicted",
				ctp_host_upgrade_get(a->host) &&
						ctp_host_upgrade_get(a->host)
							->max_moved
					? "today's entries fill the max the new "
					  "kernel defaults to (--to-kernel)"
					: "the table is full");
		else if (pct < 20)
			rc = ctp_report_finding_act(
				rep, CTP_FINDING_WARN, "table.headroom_low",
				pct, 20, max_act,
				"less than 20%% headroom to nf_conntrack_max "
				"now");
	}
	return rc;
}

/*
 * Each namespace's entries against the one global nf_conntrack_max
 * (__nf_conntrack_alloc(): "ct_count > nf_conntrack_max" with the
 * namespace's own count, [6.1]; nf_conntrack_standalone.c makes the
 * sysctl 0444 outside init_net), and the shared table's load summed
 * over them (kernel.h shared_table: one nf_conntrack_hash from 4.7,
 * net->ct.hash per namespace before: [3.4] CyanogenMod klte tree
 * "&net->ct.hash[bucket]").  A namespace near or at max is a finding
 * that names it.
 */
static int ns_section(const ctp_analysis *a, ctp_inventory *inv,
		      ctp_report *rep)
{
	const ctp_host *h = a->host;
	const ctp_snapshot *snap = a->snap;
	size_t n = ctp_host_ns_count(h), nk = ctp_snapshot_kevent_count(snap);
	const ctp_kevent *ev = ctp_snapshot_kevents(snap);
	uint32_t inodes[16];
	uint64_t msgs[16];
	size_t ni = 0;
	ctp_kver kv = ctp_host_kernel(h, NULL);
	uint64_t max = inv->max.known ? inv->max.value : 0;
	int rc = 0;

	for (size_t i = 0; i < nk; i++) {
		size_t j = 0;
		if (ev[i].kind != CTP_KEV_TABLE_FULL ||
		    !(ev[i].flags & CTP_KEV_F_NETNS))
			continue;
		while (j < ni && inodes[j] != ev[i].netns)
			j++;
		if (j == ni) {
			if (ni == sizeof(inodes) / sizeof(inodes[0]))
				continue;
			inodes[ni] = ev[i].netns;
			msgs[ni++] = 0;
		}
		msgs[j] += ev[i].repeat ? ev[i].repeat : 1;
	}
	if (n < 2 && !ni)
		return 0;
	inv->ns = calloc(n + ni, sizeof(*inv->ns));
	if (!inv->ns)
		return CTP_ENOMEM;
	inv->shared_table =
		ctp_kernel_hash_era_info(ctp_kernel_hash_era(&kv))->shared_table;
	for (size_t i = 0; i < n; i++)
		if (*ctp_host_ns_label(h, i))
			inv->own_is_root = 1;
	for (size_t i = 0; i < n; i++) {
		struct ctp_inv_ns *r;

		/* the unlabelled inputs without a listing or a count (a
		 * kernel log, counters) show no namespace of their own:
		 * no row "0 listed" for a table nobody listed */
		if (!*ctp_host_ns_label(h, i) &&
		    !ctp_host_ns_entries(h, i) &&
		    !ctp_host_has_listing(h) && !inv->count.known)
			continue;
		r = &inv->ns[inv->nns++];
		r->ns = ctp_host_ns_label(h, i);
		r->entries = ctp_host_ns_entries(h, i);
		inv->entries_all += r->entries;
		/* the count in force is the host's own namespace's */
		if (!*r->ns && inv->count.known) {
			r->count_known = 1;
			r->count = inv->count.value;
		}
		r->pct_of_max = max ? 100.0 * (double)(r->count_known
							       ? r->count
							       : r->entries) /
					      (double)max
				    : NAN;
	}
	/* a log's namespace is another one only if it cannot be one of
	 * those listed: their inodes are never in the input */
	inv->ns_min = inv->nns > ni ? inv->nns : ni;
	inv->ns_max = inv->nns + ni;
	for (size_t j = 0; j < ni; j++) {
		struct ctp_inv_ns *r = &inv->ns[inv->nns++];
		r->ns = NULL;
		r->inode = inodes[j];
		r->entries = msgs[j];
		r->pct_of_max = max ? 100.0 : NAN;
	}
	inv->load_all = inv->buckets.known && inv->buckets.value
				? 2.0 * (double)inv->entries_all /
					  (double)inv->buckets.value
				: NAN;
	for (size_t i = 0; i < inv->nns && !rc; i++) {
		const struct ctp_inv_ns *r = &inv->ns[i];
		uint64_t c = r->count_known ? r->count : r->entries;
		char abuf[80];
		const char *act = ctp_max_action(a, abuf, sizeof(abuf));
		if (!r->ns || !*r->ns || !max)
			continue; /* the host's own: table.full/headroom_low */
		if (c >= max)
			rc = ctp_report_finding_act(
				rep, CTP_FINDING_CRIT, "table.ns_full",
				(double)c, (double)max, act,
				"namespace '%s' is full: %llu entries listed "
				"at nf_conntrack_max %llu (the limit counts "
				"each namespace on its own); its new flows are "
				"dropped unless an unassured entry can be "
				"evicted",
				r->ns, (unsigned long long)c,
				(unsigned long long)max);
		else if (r->pct_of_max > 80)
			rc = ctp_report_finding_act(
				rep, CTP_FINDING_WARN, "table.ns_headroom_low",
				100 - r->pct_of_max, 20, act,
				"namespace '%s' has less than 20%% headroom to "
				"nf_conntrack_max: %llu entries listed of "
				"%llu",
				r->ns, (unsigned long long)c,
				(unsigned long long)max);
	}
	return rc;
}

static void stats_section(const ctp_snapshot *snap, ctp_inventory *inv)
{
	int src;

	for (size_t i = 0; i < CTP_INV_STATS; i++)
		inv->stat_have[i] = ctp_snapshot_stat(
			snap, ctp_inventory_stats[i], &inv->stat[i]);
	inv->cpus = ctp_snapshot_stat_cpus(snap, &src);
	inv->stats_source =
		src >= 0 ? ctp_snapshot_input(snap, (size_t)src)->path : NULL;
}

static int rejected_findings(const ctp_snapshot *snap, ctp_report *rep)
{
	uint64_t rej = 0;

	for (size_t i = 0; i < ctp_snapshot_input_count(snap); i++)
		rej += ctp_snapshot_input(snap, i)->rejected;
	if (rej)
		return ctp_report_finding_act(rep, CTP_FINDING_WARN,
					  "input.rejected_lines", (double)rej,
					  NAN,
					  "check the input: the messages on "
					  "stderr name each rejected line",
					  "%llu input lines were rejected",
					  (unsigned long long)rej);
	return 0;
}

int ctp_inventory_report(const ctp_analysis *a, ctp_report *rep,
			 ctp_error *err)
{
	const ctp_snapshot *snap = a->snap;
	ctp_inventory *inv = calloc(1, sizeof(*inv));

	if (!inv)
		goto oom;
	inv->snap = snap;
	if (entries_section(snap, inv) || table_section(a, inv, rep) ||
	    ns_section(a, inv, rep)) {
		ctp_inventory_free(inv);
		goto oom;
	}
	stats_section(snap, inv);
	/* four sections of one result; "inputs" owns it */
	if (ctp_report_add_section(rep, "inputs", CTP_SEC_INPUTS, inv,
				   ctp_inventory_free) ||
	    ctp_report_add_section(rep, "entries", CTP_SEC_ENTRIES, inv,
				   NULL) ||
	    ctp_report_add_section(rep, "table", CTP_SEC_TABLE, inv, NULL) ||
	    ctp_report_add_section(rep, "stats", CTP_SEC_STATS, inv, NULL) ||
	    rejected_findings(snap, rep))
		goto oom;
	return 0;
oom:
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
			     "out of memory in the inventory");
}
