/*
 * The planner's sections as JSON (docs/report.md "headroom",
 * "recommendation", "defaults"), from their typed results
 * (include/ctplan/plan.h).
 */
#include <math.h>
#include <stdio.h>

#include "ctplan/error.h"
#include "ctplan/plan.h"
#include "json_sections.h"

static int put(json_t *obj, const char *key, json_t *v)
{
	/* set_new: obj takes v's only reference; NULL v fails */
	return json_object_set_new(obj, key, v) ? CTP_ENOMEM : 0;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* shares rounded to 6 decimals */
static json_t *real6(double v)
{
	return isfinite(v) ? json_real(round(v * 1e6) / 1e6) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static double pct_free(uint64_t max, uint64_t n)
{
	if (!max)
		return NAN;
	return 100.0 * ((double)max - (double)n) / (double)max;
}

json_t *ctp_json_defaults(const ctp_plan_section *s)
{
	const ctp_default_rule *dr = ctp_kernel_default_rule(&s->in.kernel);
	const ctp_plan_result *res = &s->res;
	char kv[32];

	ctp_kver_format(&s->in.kernel, kv, sizeof(kv));
	return json_pack(
		"{s:s, s:s, s:s, s:s, s:i, s:o, s:i, s:o, s:o, s:o}", "kernel",
		kv, "rule", dr->name, "rule_versions", dr->versions,
		"rule_source", dr->source, "factor", (int)dr->factor,
		"mem_total_kb",
		s->in.mem_kb ? u64(s->in.mem_kb) : json_null(), "bits",
		(int)s->in.bits, "buckets",
		res->has_default ? u64(res->def.buckets) : json_null(), "max",
		res->has_default ? u64(res->def.max) : json_null(), "skipped",
		res->has_default ? json_null()
				 : json_string("no MemTotal in the input "
					       "(/proc/meminfo) and no "
					       "--mem"));
}

static json_t *evidence_json(const ctp_plan_section *s)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < s->nev; i++) {
		const ctp_peak_evidence *e = &s->ev[i];
		json_t *j = json_pack("{s:s, s:I, s:b, s:b, s:s}", "source",
				      ctp_peak_kind_name(e->kind), "entries",
				      (json_int_t)e->entries, "table_was_full",
				      e->at_least_max, "sets_peak",
				      (int)i == s->winner, "detail",
				      e->detail);
		/* append_new steals j */
		if (!j || json_array_append_new(arr, j)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *rules_json(const ctp_plan_result *res)
{
	json_t *rules = json_array();

	for (size_t i = 0; rules && i < res->nrules; i++) {
		const ctp_plan_rule *r = &res->rules[i];
		json_t *j = r->known
			? json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:s}",
				    "name", r->name, "max", (json_int_t)r->max,
				    "buckets", (json_int_t)r->buckets,
				    "headroom_pct_at_peak",
				    real6(r->headroom_pct),
				    "long_chain_share_at_max",
				    num_or_null(r->long_share), "full_drop_p",
				    num_or_null(r->full_drop_p), "note",
				    r->note)
			: json_pack("{s:s, s:n, s:n, s:n, s:n, s:n, s:s}",
				    "name", r->name, "max", "buckets",
				    "headroom_pct_at_peak",
				    "long_chain_share_at_max", "full_drop_p",
				    "note", r->note);
		/* append_new steals j */
		if (!j || json_array_append_new(rules, j)) {
			json_decref(rules);
			return NULL;
		}
	}
	return rules;
}

static json_t *strings(const char (*v)[CTP_PLAN_REASON_LEN], size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, json_string(v[i]))) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/* The commands that apply now what changes, from the host's own (root)
 * namespace: the sysctl for max; for buckets the module parameter,
 * writable on every version (the sysctl is read-only on some).  A
 * setting that is kept gets none: a resize rehashes the table. */
static json_t *apply_now(const ctp_plan_result *res)
{
	json_t *arr = json_array();
	char a[96], b[128];

	snprintf(a, sizeof(a), "sysctl -w net.netfilter.nf_conntrack_max=%llu",
		 (unsigned long long)res->max);
	snprintf(b, sizeof(b),
		 "echo %llu > /sys/module/nf_conntrack/parameters/hashsize",
		 (unsigned long long)res->buckets);
	if (arr && ((res->max_move != CTP_PLAN_KEEP &&
		     json_array_append_new(arr, json_string(a))) ||
		    (res->buckets_move != CTP_PLAN_KEEP &&
		     json_array_append_new(arr, json_string(b))))) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *u64_or_null(int known, uint64_t v)
{
	return known ? u64(v) : json_null();
}

/* recommendation.kube_proxy (docs/report.md), or null: not a
 * Kubernetes node as far as the input shows */
static json_t *kube_json(const ctp_plan_input *in, const ctp_plan_result *res)
{
	json_t *k, *sizes;
	char conf[160], flags[128];
	int ok = res->kube_known;

	if (!in->k8s_level)
		return json_null();
	k = json_object();
	sizes = json_array();
	if (!k || !sizes)
		goto oom;
	for (size_t i = 0; ok && i < res->nkube_sizes; i++)
		/* append_new steals the object */
		if (json_array_append_new(
			    sizes, json_pack("{s:i, s:I}", "cores",
					     (int)res->kube_sizes[i].cores,
					     "max",
					     (json_int_t)res->kube_sizes[i]
						     .max)))
			goto oom;
	snprintf(conf, sizeof(conf),
		 "conntrack:\n  maxPerCore: %llu\n  min: %llu",
		 (unsigned long long)res->kube_per_core,
		 (unsigned long long)res->kube_min);
	snprintf(flags, sizeof(flags),
		 "--conntrack-max-per-core=%llu --conntrack-min=%llu",
		 (unsigned long long)res->kube_per_core,
		 (unsigned long long)res->kube_min);
	/* set_new steals sizes whatever happens */
	if (put(k, "other_sizes", sizes))
		goto oom_k;
	if (put(k, "node", json_string(in->k8s_level == CTP_K8S_NODE
						? "yes"
						: "maybe")) ||
	    put(k, "evidence", json_string(in->k8s_evidence)) ||
	    put(k, "cores", in->cores ? json_integer(in->cores)
				      : json_null()) ||
	    put(k, "max_per_core_current",
		u64(in->kp_per_core_src ? in->kp_per_core : 32768)) ||
	    put(k, "max_per_core_source",
		json_string(in->kp_per_core_src ? in->kp_per_core_src
						: "default")) ||
	    put(k, "min_current", u64(in->kp_min_src ? in->kp_min : 131072)) ||
	    put(k, "min_source", json_string(in->kp_min_src ? in->kp_min_src
							    : "default")) ||
	    put(k, "log_set_max", u64_or_null(in->kp_has_set_max,
					      in->kp_set_max)) ||
	    put(k, "version", in->kp_version[0] ? json_string(in->kp_version)
						 : json_null()) ||
	    put(k, "max_write",
		json_string(ctp_plan_kube_write_name(
			ctp_plan_kube_write(in->kp_major, in->kp_minor)))) ||
	    put(k, "config_file", in->kp_config_flag
					  ? json_string(in->kp_config_path)
					  : json_null()) ||
	    put(k, "leaves_max", ok ? json_boolean(res->kube_leaves)
				    : json_null()) ||
	    put(k, "max_now", u64_or_null(ok && !res->kube_leaves,
					  res->kube_max_now)) ||
	    put(k, "change", ok ? json_boolean(res->kube_change)
				: json_null()) ||
	    put(k, "max_per_core", u64_or_null(ok, res->kube_per_core)) ||
	    put(k, "min", u64_or_null(ok, res->kube_min)) ||
	    put(k, "max", u64_or_null(ok, res->kube_max)) ||
	    put(k, "hashsize", u64_or_null(ok && res->kube_hashsize,
					   res->kube_hashsize)) ||
	    put(k, "config", ok ? json_string(conf) : json_null()) ||
	    put(k, "flags", ok ? json_string(flags) : json_null()))
		goto oom_k;
	return k;
oom:
	json_decref(sizes);
oom_k:
	json_decref(k);
	return NULL;
}

/* headroom.gc_eviction (docs/report.md) */
static json_t *gc_json(const ctp_headroom_section *h)
{
	static const char *const known[] = { "no", "yes", "unknown" };
	int figures = h->gc && h->gc->known == CTP_GC_EVICT_YES &&
		      h->gc_threshold && h->has_list;

	if (!h->gc)
		return json_null();
	/* pack "o" steals each value */
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "kernel",
			 known[h->gc->known], "versions", h->gc->versions,
			 "source", h->gc->source, "evictable",
			 h->has_list ? u64(h->ns_gc_evictable) : json_null(),
			 "evictable_share",
			 h->has_list && h->ns_entries
				 ? real6((double)h->ns_gc_evictable /
					 (double)h->ns_entries)
				 : json_null(),
			 "threshold",
			 h->gc_threshold ? u64(h->gc_threshold) : json_null(),
			 "frees", figures ? u64(h->gc_frees) : json_null());
}

json_t *ctp_json_recommendation(const ctp_plan_section *s)
{
	const ctp_plan_input *in = &s->in;
	const ctp_plan_opts *o = &s->o;
	const ctp_plan_result *res = &s->res;
	json_t *rc = json_object();
	char kv[32], mod[128], a[96], b[96];

	if (!rc)
		return NULL;
	if (!s->has_plan) {
		if (put(rc, "skipped", json_string(s->skipped)) ||
		    put(rc, "peak_evidence", evidence_json(s)))
			goto oom;
		return rc;
	}
	ctp_kver_format(&in->kernel, kv, sizeof(kv));
	snprintf(mod, sizeof(mod), "options nf_conntrack hashsize=%llu",
		 (unsigned long long)res->buckets);
	snprintf(a, sizeof(a), "net.netfilter.nf_conntrack_max = %llu",
		 (unsigned long long)res->max);
	snprintf(b, sizeof(b), "net.netfilter.nf_conntrack_buckets = %llu",
		 (unsigned long long)res->buckets);
	if (put(rc, "kernel", json_string(kv)) ||
	    put(rc, "kernel_source", str_or_null(in->kernel_source)) ||
	    put(rc, "peak", u64(in->peak)) ||
	    put(rc, "peak_source", json_string(s->peak_source)) ||
	    put(rc, "margin", json_real(o->margin)) ||
	    put(rc, "max_chain", json_integer(o->max_chain)) ||
	    put(rc, "chain_share", json_real(o->chain_share)) ||
	    put(rc, "max", u64(res->max)) ||
	    put(rc, "buckets", u64(res->buckets)) ||
	    put(rc, "max_current", in->cur_max ? u64(in->cur_max)
					       : json_null()) ||
	    put(rc, "buckets_current", in->cur_buckets ? u64(in->cur_buckets)
						       : json_null()) ||
	    put(rc, "max_current_projected",
		json_boolean(in->cur_max_projected)) ||
	    put(rc, "buckets_current_projected",
		json_boolean(in->cur_buckets_projected)) ||
	    put(rc, "max_move", json_string(ctp_plan_move_name(res->max_move))) ||
	    put(rc, "buckets_move",
		json_string(ctp_plan_move_name(res->buckets_move))) ||
	    put(rc, "max_needed", u64(res->max_needed)) ||
	    put(rc, "max_floor", json_string(res->max_floor)) ||
	    put(rc, "allow_shrink", json_boolean(o->allow_shrink)) ||
	    put(rc, "change", json_boolean(res->max_move != CTP_PLAN_KEEP ||
					   res->buckets_move !=
						   CTP_PLAN_KEEP)) ||
	    put(rc, "headroom_pct_at_peak", real6(res->headroom_pct)) ||
	    put(rc, "load_at_max", real6(res->load_at_max)) ||
	    put(rc, "long_chain_share_at_max", num_or_null(res->long_share)) ||
	    put(rc, "buckets_min_chain", u64(res->buckets_chain)) ||
	    put(rc, "buckets_default_aim", u64(res->buckets_aim)) ||
	    put(rc, "evictable_share", real6(in->evictable)) ||
	    put(rc, "evictable_listed", u64(in->evict_listed)) ||
	    put(rc, "kube_proxy_rule_shown",
		json_boolean(in->k8s_level > 0 || in->cores_given)) ||
	    put(rc, "evictable_sample_small",
		json_boolean(!in->evict_listed ||
			     ctp_plan_sample_small(in->evict_listed,
						   in->evict_counted))) ||
	    put(rc, "full_drop_p", num_or_null(res->full_drop_p)) ||
	    put(rc, "full_drop_p_min_chain",
		num_or_null(res->full_drop_p_chain)) ||
	    put(rc, "entry_bytes", u64(res->entry_bytes)) ||
	    put(rc, "memory_bytes", u64(res->memory_bytes)) ||
	    put(rc, "memory_share", num_or_null(res->memory_share)) ||
	    /* the buckets line only where the kernel's sysctl takes a
	     * write (ctp_kernel_apply_rule: read-only in 3.10) */
	    put(rc, "sysctl",
		ctp_kernel_apply_rule(&in->kernel)->buckets_sysctl
			? json_pack("[s, s]", a, b)
			: json_pack("[s]", a)) ||
	    put(rc, "modprobe", json_string(mod)) ||
	    put(rc, "modules_load", json_string("nf_conntrack")) ||
	    put(rc, "apply_now", apply_now(res)) ||
	    put(rc, "kube_proxy", kube_json(in, res)) ||
	    put(rc, "reasons", strings(s->reasons, s->nreasons)) ||
	    put(rc, "rules", rules_json(res)))
		goto oom;
	if (s->has_evidence &&
	    (put(rc, "skipped", json_null()) ||
	     put(rc, "peak_evidence", evidence_json(s))))
		goto oom;
	return rc;
oom:
	json_decref(rc);
	return NULL;
}

static json_t *idle_json(const ctp_idle_class *c)
{
	json_t *arr = json_array();

	for (size_t w = 0; arr && w < c->nwhat; w++)
		/* append_new steals the object */
		if (json_array_append_new(
			    arr, json_pack("{s:I, s:I, s:f}", "timeout_s",
					   (json_int_t)c->what_if[w].timeout_s,
					   "freed",
					   (json_int_t)c->what_if[w].freed,
					   "freed_pct",
					   c->what_if[w].freed_pct))) {
			json_decref(arr);
			return NULL;
		}
	/* pack "o" steals arr (NULL fails it) */
	return json_pack("{s:I, s:s, s:I, s:o, s:o, s:o}", "timeout_s",
			 (json_int_t)c->timeout_s, "timeout_source",
			 c->timeout_from_sysctl ? "sysctl" : "default",
			 "entries", (json_int_t)c->entries, "idle_median_s",
			 isfinite(c->idle_median_s)
				 ? json_real(c->idle_median_s)
				 : json_null(),
			 "what_if", arr, "owner",
			 c->owner ? json_pack("{s:s, s:I, s:s}", "name",
					      c->owner, "timeout_s",
					      (json_int_t)c->owner_timeout_s,
					      "source", c->owner_source)
				  : json_null());
}

/* entries by kind as {key: {entries, pct_of_max}} */
static json_t *share_of_max(const ctp_tallies *t, uint64_t max)
{
	json_t *o = json_object();

	for (size_t i = 0; o && t && i < t->n; i++) {
		json_int_t c = (json_int_t)t->v[i].n;
		json_t *e = json_pack("{s:I, s:o}", "entries", c, "pct_of_max",
				      max ? real6(100.0 * (double)c /
						  (double)max)
					  : json_null());
		/* set_new steals e */
		if (!e || json_object_set_new(o, t->v[i].key, e)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *ctp_json_headroom(const ctp_headroom_section *h)
{
	json_t *hr = json_object(), *idle = json_object(), *rate;
	uint64_t max = h->max;

	if (!hr || !idle || put(hr, "idle", idle)) {
		json_decref(hr);
		return NULL;
	}
	if (put(idle, "tcp_established", idle_json(&h->tcp_established)) ||
	    put(idle, "udp_stream", idle_json(&h->udp_stream)))
		goto oom;
	rate = h->has_rate
		       ? json_pack("{s:s, s:f, s:f, s:f}", "source",
				   h->rate_source, "window_s", h->rate_window_s,
				   "new_per_s", h->rate_new_per_s,
				   "steady_state", h->rate_steady_state)
		       : json_pack("{s:n, s:n, s:n, s:n}", "source",
				   "window_s", "new_per_s", "steady_state");
	if (put(hr, "count", json_integer((json_int_t)h->count)) ||
	    put(hr, "max", max ? u64(max) : json_null()) ||
	    put(hr, "max_source", str_or_null(h->max_source)) ||
	    put(hr, "headroom", max ? json_integer((json_int_t)max -
						   (json_int_t)h->count)
				    : json_null()) ||
	    put(hr, "headroom_pct",
		max ? real6(pct_free(max, h->count)) : json_null()) ||
	    put(hr, "by_protocol", share_of_max(h->by_protocol, max)) ||
	    put(hr, "by_state", share_of_max(h->by_state, max)) ||
	    put(hr, "by_zone", share_of_max(h->by_zone, max)) ||
	    put(hr, "growth",
		json_pack("{s:f, s:I, s:o, s:o, s:o}", "factor", h->growth,
			  "peak", (json_int_t)h->peak, "peak_source",
			  str_or_null(h->peak_source), "headroom_at_peak",
			  max ? json_integer((json_int_t)max -
					     (json_int_t)h->peak)
			      : json_null(),
			  "headroom_pct_at_peak",
			  max && h->peak_source
				  ? real6(pct_free(max, h->peak))
				  : json_null())) ||
	    put(hr, "rate", rate) ||
	    put(hr, "gc_eviction", gc_json(h)) ||
	    put(hr, "full_table",
		json_pack("{s:s, s:s, s:s, s:I, s:b, s:I, s:I, s:o, s:o}",
			  "rule", h->rule->name, "rule_versions",
			  h->rule->versions, "namespace", h->ns, "entries",
			  (json_int_t)h->ns_entries, "sample_small",
			  ctp_plan_sample_small(h->ns_entries, h->count),
			  "evictable",
			  (json_int_t)h->ns_evictable, "range",
			  (json_int_t)h->rule->range, "evictable_share",
			  h->has_list ? real6(h->evictable_share)
				      : json_null(),
			  "full_drop_p", num_or_null(h->full_drop_p))))
		goto oom;
	return hr;
oom:
	json_decref(hr);
	return NULL;
}
