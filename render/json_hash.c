/*
 * The "hash" section as JSON (docs/report.md), from the hash model's
 * typed section (include/ctplan/hash.h).
 */
#include <math.h>

#include "ctplan/error.h"
#include "ctplan/hash.h"
#include "json_sections.h"

/* Reals rounded so averages over keys print short: 4 decimals. */
static json_t *real4(double v)
{
	return json_real(round(v * 1e4) / 1e4);
}

static json_t *hist_json(const double *h, size_t len)
{
	json_t *a = json_array();

	for (size_t l = 0; a && l < len; l++)
		/* append_new steals the real */
		if (json_array_append_new(a, real4(h[l]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* set_new throughout: obj takes each new value's only reference; a NULL
 * value (out of memory) makes the set fail. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new(obj, key, v) ? CTP_ENOMEM : 0;
}

static int poisson_json(json_t *obj, const ctp_hash_poisson *p)
{
	json_t *o = json_object();

	if (!o)
		return CTP_ENOMEM;
	if (put(o, "histogram", hist_json(p->hist, p->hist_len)) ||
	    put(o, "mean_chain", real4(p->mean_occupied)) ||
	    put(o, "p99", json_integer(p->p99)) ||
	    put(o, "p999", json_integer(p->p999)) ||
	    put(o, "longest_median", json_integer(p->longest_median)) ||
	    put(o, "share_over8", json_real(p->share_over8)) ||
	    put(o, "chaintoolong_p_next", json_real(p->p_next)) ||
	    put(o, "chi2", real4(p->chi2)) ||
	    put(o, "chi2_df", json_integer(p->chi2_df)) ||
	    put(o, "chi2_p", json_real(p->chi2_p)) ||
	    put(o, "mismatch", json_boolean(p->mismatch))) {
		json_decref(o);
		return CTP_ENOMEM;
	}
	return put(obj, "poisson", o);
}

/* The figures of one table state, as keys of obj. */
static int figures_json(json_t *obj, const ctp_hash_state *st)
{
	const ctp_hash_figures *f = &st->fig;
	json_t *lg = json_pack("{s:I, s:f, s:I}", "min",
			       (json_int_t)f->longest_min, "median",
			       f->longest_median, "max",
			       (json_int_t)f->longest_max);

	if (put(obj, "entries", real4(f->entries)) ||
	    put(obj, "nodes", real4(f->nodes)) ||
	    put(obj, "load", json_real(f->load)) ||
	    put(obj, "histogram", hist_json(f->hist, f->hist_len)) ||
	    put(obj, "mean_chain", real4(f->mean_occupied)) ||
	    put(obj, "p99", json_integer(f->p99)) ||
	    put(obj, "p999", json_integer(f->p999)) ||
	    put(obj, "longest", lg) ||
	    put(obj, "share_over8", json_real(f->share_over8)) ||
	    put(obj, "chaintoolong_p_next", json_real(f->p_next)) ||
	    put(obj, "attempts", real4(f->attempts)) ||
	    put(obj, "refused_share", json_real(f->refused)) ||
	    put(obj, "target_reached", json_boolean(f->target_reached)))
		return CTP_ENOMEM;
	return poisson_json(obj, &st->poisson);
}

/* Figure keys as null, so a skipped section has the same shape. */
static const char *const figure_keys[] = {
	"namespaces",	  "tables",	  "placed",
	"inexact",	  "entries",	  "nodes",
	"load",		  "histogram",	  "mean_chain",
	"p99",		  "p999",	  "longest",
	"share_over8",	  "chaintoolong_p_next",
	"attempts",	  "refused_share", "target_reached",
	"poisson",	  "resample_bases", "resampled",
};

static int null_figures(json_t *obj)
{
	for (size_t i = 0; i < sizeof(figure_keys) / sizeof(figure_keys[0]);
	     i++)
		if (put(obj, figure_keys[i], json_null()))
			return CTP_ENOMEM;
	return 0;
}

static int limit_json(json_t *h, const ctp_chain_limit *l)
{
	json_t *o;

	if (!l->enabled)
		return put(h, "chain_limit", json_null());
	/* refused when a chain holds max_chainlen + 2 nodes, max_chainlen
	 * drawn in [min, min + span) */
	o = json_pack("{s:I, s:I, s:I, s:I, s:s}", "min", (json_int_t)l->min,
		      "span", (json_int_t)(l->span ? l->span : 1),
		      "refuse_from",
		      (json_int_t)(l->min + CTP_CHAIN_SLACK), "refuse_all_from",
		      (json_int_t)(l->min + (l->span ? l->span - 1 : 0) +
				   CTP_CHAIN_SLACK),
		      "versions", l->versions ? l->versions : "");
	return put(h, "chain_limit", o);
}

static int at_max_json(json_t *h, const ctp_hash_section *s)
{
	const ctp_hash_result *res = &s->res;
	json_t *am;

	if (!res->has_at_max)
		return put(h, "at_max", json_null()) ||
		       put(h, "at_max_skipped",
			   json_string(s->has_max
					       ? "nf_conntrack_max is 0"
					       : "no nf_conntrack_max in the "
						 "input"));
	am = json_object();
	if (!am || put(h, "at_max", am) ||
	    put(am, "target", json_integer((json_int_t)s->max)) ||
	    figures_json(am, &res->at_max) ||
	    put(am, "uniform_fill", real4(res->at_max.fig.uniform)) ||
	    put(am, "fill_method",
		json_string(res->at_max_estimated
				    ? "estimated: balls into bins (see "
				      "budget)"
			    : res->at_max.fig.uniform > 0
				    ? "observed tuples with fresh ports, "
				      "then balls into bins"
				    : "observed tuples with fresh ports")) ||
	    put(h, "at_max_skipped", json_null()))
		return CTP_ENOMEM;
	return 0;
}

/* What the model's budget changed (ctplan/hash.h CTP_HASH_MEM_BUDGET),
 * or null: keys cut, states estimated instead of replayed, and why. */
static json_t *budget_json(const ctp_hash_result *res,
			   const ctp_chain_limit *limit)
{
	char why[512];
	size_t n = 0;

	if (!res->now_estimated && !res->at_max_estimated &&
	    res->keys >= res->keys_asked)
		return json_null();
	why[0] = '\0';
	if (res->now_estimated || res->at_max_estimated)
		n += (size_t)snprintf(
			why, sizeof(why),
			"%s estimated as balls into bins (Poisson, table by "
			"table), not replayed: the replay needs %.0f MiB, "
			"past the model's budget of %.0f MiB",
			res->now_estimated ? "the table now and at max"
					   : "the table at max",
			(double)res->need_bytes / 1048576.0,
			(double)CTP_HASH_MEM_BUDGET / 1048576.0);
	if ((res->now_estimated || res->at_max_estimated) && limit->enabled &&
	    n < sizeof(why))
		n += (size_t)snprintf(why + n, sizeof(why) - n,
				      "; an estimate places every entry: "
				      "chain-limit refusals are not modelled, "
				      "p(next) says how likely one is");
	if (!res->now_estimated && res->keys < res->keys_asked &&
	    n < sizeof(why))
		snprintf(why + n, sizeof(why) - n,
			 "%s%u of the %u keys asked ran: more would pass the "
			 "model's work budget of %.0f M counter updates",
			 n ? "; " : "", res->keys, res->keys_asked,
			 (double)CTP_HASH_WORK_BUDGET / 1e6);
	return json_pack("{s:I, s:I, s:b, s:b, s:I, s:I, s:s}", "keys_asked",
			 (json_int_t)res->keys_asked, "keys_run",
			 (json_int_t)res->keys, "now_estimated",
			 res->now_estimated, "at_max_estimated",
			 res->at_max_estimated, "need_bytes",
			 (json_int_t)res->need_bytes, "budget_bytes",
			 (json_int_t)CTP_HASH_MEM_BUDGET, "why", why);
}

json_t *ctp_json_hash(const ctp_hash_section *s)
{
	const ctp_hash_result *res = &s->res;
	json_t *h = json_object();

	if (!h || put(h, "algorithm", json_string(s->info->algorithm)) ||
	    put(h, "era", json_string(s->info->name)) ||
	    put(h, "era_versions", json_string(s->info->versions)) ||
	    put(h, "kernel", json_string(s->kernel)) ||
	    put(h, "kernel_source", json_string(s->kernel_source)) ||
	    put(h, "buckets", s->has_buckets
				      ? json_integer((json_int_t)s->buckets)
				      : json_null()) ||
	    put(h, "buckets_source", s->buckets_source
					     ? json_string(s->buckets_source)
					     : json_null()) ||
	    put(h, "keys", json_integer(s->keys)) ||
	    put(h, "seed", json_integer((json_int_t)s->seed)) ||
	    limit_json(h, &s->limit))
		goto oom;
	if (!s->ran) {
		if (put(h, "budget", json_null()) ||
		    put(h, "skipped", json_string(s->skipped)) ||
		    null_figures(h) || put(h, "at_max", json_null()) ||
		    put(h, "at_max_skipped",
			json_string("the model did not run")))
			goto oom;
		return h;
	}
	if (put(h, "budget", budget_json(res, &s->limit)) ||
	    put(h, "skipped", json_null()) ||
	    put(h, "namespaces", json_integer(res->namespaces)) ||
	    put(h, "tables", json_integer(res->tables)) ||
	    put(h, "placed", json_integer((json_int_t)res->entries)) ||
	    put(h, "inexact", json_integer((json_int_t)res->inexact)) ||
	    figures_json(h, &res->now) ||
	    put(h, "resample_bases",
		json_integer((json_int_t)res->resample_bases)) ||
	    put(h, "resampled", json_integer((json_int_t)res->resampled)) ||
	    at_max_json(h, s))
		goto oom;
	return h;
oom:
	json_decref(h);
	return NULL;
}
