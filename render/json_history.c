/*
 * The "history" section as JSON (docs/report.md), from the history
 * model's typed section (include/ctplan/history.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "ctplan/error.h"
#include "ctplan/history.h"
#include "json_sections.h"

#define US_PER_S 1000000LL

static int put(json_t *obj, const char *key, json_t *v)
{
	/* set_new: obj takes v's only reference; NULL v fails */
	return json_object_set_new(obj, key, v) ? CTP_ENOMEM : 0;
}

static json_t *time_json(ctp_hclock c, int64_t t)
{
	char buf[64];

	ctp_history_fmt_time(c, t, buf, sizeof(buf));
	return json_string(buf);
}

/* Namespace names: the inode number; a message without one is from the
 * initial namespace on kernels that name the others, else unknown. */
static int ns_json(json_t *arr, const ctp_hburst *b, int names_netns)
{
	char buf[16];

	for (size_t i = 0; i < b->nns; i++) {
		snprintf(buf, sizeof(buf), "%" PRIu32, b->ns[i]);
		if (json_array_append_new(arr, json_string(buf)))
			return CTP_ENOMEM;
	}
	if (b->no_ns &&
	    json_array_append_new(arr, json_string(names_netns ? "init"
							      : "unknown")))
		return CTP_ENOMEM;
	if (b->ns_more && json_array_append_new(arr, json_string("...")))
		return CTP_ENOMEM;
	return 0;
}

static int burst_json(json_t *arr, const ctp_history_section *h,
		      const ctp_hburst *b)
{
	json_t *o = json_object(), *ns = json_array();

	if (!o || !ns || ns_json(ns, b, h->names_netns)) {
		json_decref(o);
		json_decref(ns);
		return CTP_ENOMEM;
	}
	if (put(o, "kind", json_string(ctp_history_kind_key(b->kind))) ||
	    put(o, "first", time_json(h->clock, b->first)) ||
	    put(o, "last", time_json(h->clock, b->last)) ||
	    put(o, "first_s", json_real((double)b->first / US_PER_S)) ||
	    put(o, "last_s", json_real((double)b->last / US_PER_S)) ||
	    put(o, "namespaces", ns) ||
	    put(o, "count", json_integer((json_int_t)b->count)) ||
	    put(o, "suppressed", json_integer((json_int_t)b->suppressed)) ||
	    json_array_append_new(arr, o)) {
		json_decref(o);
		return CTP_ENOMEM;
	}
	return 0;
}

static int kind_json(json_t *hist, const ctp_history_section *h, int k)
{
	json_t *o = json_object(), *ns = json_array();
	size_t nb = h->nkind[k];

	if (!o || !ns || ns_json(ns, &h->all[k], h->names_netns))
		goto oom;
	if (put(o, "printed", json_integer((json_int_t)h->printed[k])) ||
	    put(o, "suppressed", json_integer((json_int_t)h->suppressed[k])) ||
	    put(o, "at_least",
		json_integer((json_int_t)(h->printed[k] + h->suppressed[k]))) ||
	    put(o, "bursts", json_integer((json_int_t)nb)) ||
	    put(o, "first",
		nb ? time_json(h->clock, h->all[k].first) : json_null()) ||
	    put(o, "last",
		nb ? time_json(h->clock, h->all[k].last) : json_null()))
		goto oom;
	/* put steals ns, also when it fails */
	if (put(o, "namespaces", ns)) {
		ns = NULL;
		goto oom;
	}
	return put(hist, ctp_history_kind_key(k), o);
oom:
	json_decref(o);
	json_decref(ns);
	return CTP_ENOMEM;
}

static int logs_json(json_t *hist, const ctp_history_section *h)
{
	const ctp_snapshot *snap = h->snap;
	json_t *arr = json_array();

	if (!arr)
		return CTP_ENOMEM;
	for (size_t i = 0; i < h->nlogs; i++) {
		const ctp_hlog *l = &h->logs[i];
		const ctp_input_info *in = ctp_snapshot_input(snap, l->input);
		json_t *o = json_pack(
			"{s:s, s:I, s:s, s:I, s:b}", "path", in->path,
			"lines", (json_int_t)in->lines, "clock",
			ctp_history_clock_name(l->clock), "messages",
			(json_int_t)l->events, "counted", l->used);

		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return CTP_ENOMEM;
		}
		if (l->why &&
		    (put(o, "not_counted_because", json_string(l->why)) ||
		     put(o, "counted_instead",
			 json_string(ctp_snapshot_input(
					     snap, h->logs[l->other].input)
					     ->path)))) {
			json_decref(arr);
			return CTP_ENOMEM;
		}
	}
	return put(hist, "logs", arr);
}

static int notices_json(json_t *hist, const ctp_history_section *h)
{
	const ctp_kevent *ev = ctp_snapshot_kevents(h->snap);
	size_t n = ctp_snapshot_kevent_count(h->snap);
	json_t *o = json_object(), *sizes = json_array();
	uint64_t vmalloc = 0, helper = 0;

	if (!o || !sizes)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		int counted = 0;
		for (size_t j = 0; j < h->nlogs; j++)
			if (h->logs[j].input == ev[i].input && h->logs[j].used)
				counted = 1;
		if (!counted)
			continue;
		if (ev[i].kind == CTP_KEV_VMALLOC)
			vmalloc += ev[i].repeat;
		else if (ev[i].kind == CTP_KEV_HELPER)
			helper += ev[i].repeat;
		else if (ev[i].kind == CTP_KEV_CT_SIZE) {
			json_t *s = json_pack("{s:I, s:I}", "buckets",
					      (json_int_t)ev[i].value, "max",
					      (json_int_t)ev[i].value2);
			if (!s || json_array_append_new(sizes, s))
				goto oom;
		}
	}
	if (put(o, "boot_sizes", sizes)) {
		sizes = NULL;
		goto oom;
	}
	sizes = NULL;
	if (put(o, "vmalloc_fallbacks", json_integer((json_int_t)vmalloc)) ||
	    put(o, "helper_notices", json_integer((json_int_t)helper)))
		goto oom;
	return put(hist, "notices", o);
oom:
	json_decref(o);
	json_decref(sizes);
	return CTP_ENOMEM;
}

json_t *ctp_json_history(const ctp_history_section *h)
{
	json_t *hist = json_object(), *bursts = json_array();

	if (!hist || !bursts)
		goto oom;
	for (size_t i = 0; i < h->nbursts; i++)
		if (burst_json(bursts, h, &h->bursts[i]))
			goto oom;
	if (put(hist, "clock", json_string(ctp_history_clock_name(h->clock))) ||
	    put(hist, "burst_gap_s",
		json_integer((json_int_t)(h->gap_us / US_PER_S))) ||
	    logs_json(hist, h) || kind_json(hist, h, CTP_HIST_TABLE) ||
	    kind_json(hist, h, CTP_HIST_EXPECT) ||
	    put(hist, "suppressed_unattributed",
		json_integer((json_int_t)h->unattributed)) ||
	    put(hist, "boots", json_integer((json_int_t)h->boots)) ||
	    notices_json(hist, h))
		goto oom;
	if (put(hist, "bursts_not_listed",
		json_pack("{s:I, s:I}", "bursts", (json_int_t)h->unlisted,
			  "messages", (json_int_t)h->unlisted_messages)))
		goto oom;
	/* put steals bursts, also when it fails */
	if (put(hist, "bursts", bursts)) {
		json_decref(hist);
		return NULL;
	}
	return hist;
oom:
	json_decref(hist);
	json_decref(bursts);
	return NULL;
}
