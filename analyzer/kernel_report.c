/*
 * Kernel findings (docs/report.md "kernel.*"): which build the input
 * names and what ctplan models for it (analyzer/kernel.c
 * ctp_kernel_identify), whether the settings read contradict that
 * build's defaults, and, with --to-kernel, what changes on the kernel
 * about to be rolled out.  Facts come from analyzer/kernel.c; the host
 * (analyzer/host.c) already moved the settings that follow the
 * defaults.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis_impl.h"

static int identified(ctp_report *rep, const ctp_kernel_id *id,
		      const char *src)
{
	char kv[32];

	if (!id->release[0] || (!strcmp(id->vendor, "upstream") && id->exact))
		return 0;
	ctp_kver_format(&id->upstream, kv, sizeof(kv));
	if (!strcmp(id->vendor, "upstream"))
		return ctp_report_finding(rep, CTP_FINDING_INFO,
					  "kernel.identified", NAN, NAN,
					  "%s '%s': modelled as upstream %s; "
					  "%s",
					  src, id->release, kv, id->note);
	return ctp_report_finding(rep, CTP_FINDING_INFO, "kernel.identified",
				  NAN, NAN,
				  "%s '%s' is %s: modelled as upstream %s "
				  "(%s)%s%s",
				  src, id->release, id->vendor, kv, id->source,
				  id->note[0] ? "; " : "", id->note);
}

/* Representative versions of the default rules (ctp_kernel_default_rule) */
static const ctp_kver rule_reps[] = {
	{ 3, 10, 0 }, { 4, 0, 0 }, { 4, 7, 0 }, { 5, 15, 0 },
};

/*
 * The settings read against the defaults of the kernel that produced
 * them: a pair that is exactly another rule's default for this MemTotal
 * (max = 4 x buckets on a kernel that defaults to max = buckets) says
 * the build keeps the other rule, or someone set those very values.
 */
static int defaults_mismatch(const ctp_analysis *a, ctp_report *rep,
			     const ctp_kver *v, const ctp_kernel_id *id,
			     uint64_t max, uint64_t buckets)
{
	const ctp_host_num *mem = ctp_host_mem_kb(a->host);
	unsigned bits = ctp_host_bits(a->host);
	uint64_t pages;
	ctp_table_default own, other;
	char kv[32];

	if (!mem->known || !max || !buckets)
		return 0;
	pages = mem->value * 1024 / ctp_kernel_page_size();
	if (ctp_kernel_table_default(v, pages, ctp_kernel_page_size(), bits,
				     &own))
		return 0;
	if (own.max == max && own.buckets == buckets)
		return 0;
	for (size_t i = 0; i < sizeof(rule_reps) / sizeof(rule_reps[0]); i++) {
		if (ctp_kernel_table_default(&rule_reps[i], pages,
					     ctp_kernel_page_size(), bits,
					     &other) ||
		    other.rule == own.rule || other.max != max ||
		    other.buckets != buckets)
			continue;
		ctp_kver_format(v, kv, sizeof(kv));
		return ctp_report_finding(
			rep, CTP_FINDING_WARN, "kernel.defaults_mismatch",
			(double)max, (double)own.max,
			"nf_conntrack_max %llu and nf_conntrack_buckets %llu "
			"are the defaults of kernels %s for this MemTotal "
			"(max = %u x buckets), not of kernel %s%s%s%s, which "
			"defaults to max %llu, buckets %llu (max = %u x "
			"buckets): either they were set to exactly these "
			"values, or this build keeps the older rule and what "
			"ctplan models for it is wrong here",
			(unsigned long long)max, (unsigned long long)buckets,
			other.rule->versions, other.rule->factor, kv,
			id->release[0] ? " ('" : "", id->release,
			id->release[0] ? "')" : "",
			(unsigned long long)own.max,
			(unsigned long long)own.buckets, own.rule->factor);
	}
	return 0;
}

static int upgrade(const ctp_analysis *a, ctp_report *rep,
		   const ctp_host_upgrade *u)
{
	ctp_kver to = ctp_host_kernel(a->host, NULL);
	const ctp_kernel_id *tid = ctp_host_kernel_id(a->host);
	const ctp_hash_era_info *hf, *ht;
	const ctp_host_num *max = ctp_host_max(a->host),
			   *bk = ctp_host_buckets(a->host);
	char fv[32], tv[32], lf[120], lt[120], act[96];
	const char *raise;
	int rc = 0;

	ctp_kver_format(&to, tv, sizeof(tv));
	if (u->from.upstream.major < 2)
		return ctp_report_finding(
			rep, CTP_FINDING_WARN, "kernel.upgrade", NAN, NAN,
			"--to-kernel %s (upstream %s): the input names no "
			"kernel (no uname, no kernel.osrelease), so ctplan "
			"cannot tell which settings are today's defaults; "
			"they are judged as read",
			tid->release, tv);
	ctp_kver_format(&u->from.upstream, fv, sizeof(fv));
	hf = ctp_kernel_hash_era_info(ctp_kernel_hash_era(&u->from.upstream));
	ht = ctp_kernel_hash_era_info(ctp_kernel_hash_era(&to));
	ctp_kernel_chain_limit_words(&u->from.upstream, lf, sizeof(lf));
	ctp_kernel_chain_limit_words(&to, lt, sizeof(lt));
	rc |= ctp_report_finding(
		rep, CTP_FINDING_INFO, "kernel.upgrade", NAN, NAN,
		"judged on --to-kernel %s (upstream %s) instead of the "
		"input's %s (%s, upstream %s): hash %s -> %s; chain limit: "
		"%s -> %s",
		tid->release, tv, u->from.release[0] ? u->from.release : fv,
		u->from_source, fv, hf->name, ht->name, lf, lt);
	if (!u->has_defaults)
		return rc | ctp_report_finding(
			rep, CTP_FINDING_WARN, "kernel.upgrade_defaults", NAN,
			NAN,
			"no MemTotal in the input (nor --mem): ctplan cannot "
			"tell whether nf_conntrack_max and "
			"nf_conntrack_buckets are %s's defaults, so they are "
			"judged as read",
			fv);
	if (u->max_before.known) {
		if (u->max_moved) {
			/* the action is the recommendation's figure, as in
			 * every finding that names a max */
			int drops = max->value < u->max_before.value;

			raise = drops ? ctp_max_action(a, act, sizeof(act))
				      : NULL;
			rc |= ctp_report_finding_act(
				rep, drops ? CTP_FINDING_WARN : CTP_FINDING_INFO,
				"kernel.upgrade_max", (double)max->value,
				(double)u->max_before.value, raise,
				"nf_conntrack_max %llu is %s's default for this "
				"MemTotal (%s, max = %u x buckets): nothing "
				"sets it, so on %s it becomes that kernel's "
				"default, %llu (%s, max = %u x buckets)%s",
				(unsigned long long)u->max_before.value, fv,
				u->def_from.rule->name,
				u->def_from.rule->factor, tv,
				(unsigned long long)max->value,
				u->def_to.rule->name, u->def_to.rule->factor,
				!drops ? ""
				: raise ? "; set the recommended max in "
					  "sysctl.d before the upgrade"
					: "; the peak still fits it (see the "
					  "headroom)");
		} else {
			rc |= ctp_report_finding(
				rep, CTP_FINDING_INFO, "kernel.upgrade_max",
				(double)max->value, NAN,
				"nf_conntrack_max %llu is not %s's default "
				"for this MemTotal (%llu): it is set, and "
				"stays %llu on %s if what sets it stays",
				(unsigned long long)max->value, fv,
				(unsigned long long)u->def_from.max,
				(unsigned long long)max->value, tv);
		}
	}
	if (u->buckets_before.known) {
		if (u->buckets_moved)
			rc |= ctp_report_finding(
				rep, CTP_FINDING_INFO, "kernel.upgrade_buckets",
				(double)bk->value,
				(double)u->buckets_before.value,
				"nf_conntrack_buckets %llu is %s's default for "
				"this MemTotal: on %s it %s %llu, that "
				"kernel's default",
				(unsigned long long)u->buckets_before.value, fv,
				tv,
				bk->value == u->buckets_before.value
					? "stays"
					: "becomes",
				(unsigned long long)bk->value);
		else
			rc |= ctp_report_finding(
				rep, CTP_FINDING_INFO, "kernel.upgrade_buckets",
				(double)bk->value, NAN,
				"nf_conntrack_buckets %llu is not %s's default "
				"for this MemTotal (%llu): it is set (hashsize "
				"or sysctl) and stays on %s if what sets it "
				"stays",
				(unsigned long long)bk->value, fv,
				(unsigned long long)u->def_from.buckets, tv);
	}
	return rc;
}

int ctp_kernel_report(const ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	const ctp_host_upgrade *u = ctp_host_upgrade_get(a->host);
	const ctp_host_num *max = ctp_host_max(a->host),
			   *bk = ctp_host_buckets(a->host);
	const char *src;
	ctp_kver v = ctp_host_kernel(a->host, &src);
	int rc = 0;

	rc |= identified(rep, ctp_host_kernel_id(a->host), src);
	if (u) {
		rc |= identified(rep, &u->from, u->from_source);
		/* today's settings against today's kernel */
		if (u->from.upstream.major >= 2 && u->max_before.known &&
		    u->buckets_before.known)
			rc |= defaults_mismatch(a, rep, &u->from.upstream,
						&u->from,
						u->max_before.value,
						u->buckets_before.value);
		rc |= upgrade(a, rep, u);
	} else if (max->known && bk->known &&
		   strcmp(src, "assumed: the newest known") != 0) {
		rc |= defaults_mismatch(a, rep, &v, ctp_host_kernel_id(a->host),
					max->value, bk->value);
	}
	if (rc)
		return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
				     "out of memory in the kernel findings");
	return 0;
}
