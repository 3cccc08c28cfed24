/*
 * The actions that name a setting, written once: a finding that says
 * what to do with nf_conntrack_max or nf_conntrack_buckets names the
 * recommendation's figure, so findings and the recommendation never
 * disagree.
 */
#include <stdio.h>

#include "analysis_impl.h"

const char *ctp_max_action(const ctp_analysis *a, char *buf, size_t size)
{
	if (a->has_plan && a->plan.max > ctp_host_max(a->host)->value) {
		snprintf(buf, size, "set nf_conntrack_max = %llu",
			 (unsigned long long)a->plan.max);
		return buf;
	}
	if (a->has_plan)
		return NULL; /* the planner keeps it: nothing to raise */
	return "raise nf_conntrack_max (the input has no nf_conntrack_max "
	       "to size it from: add sysctl -a)";
}

const char *ctp_bucket_action(const ctp_analysis *a, char *buf, size_t size)
{
	if (!a->has_plan ||
	    a->plan.buckets <= ctp_host_buckets(a->host)->value)
		return NULL;
	snprintf(buf, size, "set nf_conntrack_buckets = %llu",
		 (unsigned long long)a->plan.buckets);
	return buf;
}
