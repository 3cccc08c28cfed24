#define _GNU_SOURCE /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/escape.h"
#include "grow.h"
#include "snapshot_impl.h"

static const char *const stat_names[CTP_STAT_COUNT] = {
#define CTP_STAT_NAME(id, name) [CTP_STAT_##id] = name,
	CTP_STAT_LIST(CTP_STAT_NAME)
#undef CTP_STAT_NAME
};

const char *ctp_stat_name(ctp_stat id)
{
	return (unsigned)id < CTP_STAT_COUNT ? stat_names[id] : NULL;
}

int ctp_stat_lookup(const char *name, size_t len)
{
	/* /proc/net/stat/nf_conntrack column names that differ from the
	 * netlink names (kernel nf_conntrack_standalone.c ct_cpu_seq_show;
	 * conntrack-tools prints icmp_error as "error") */
	static const struct {
		const char *alias;
		ctp_stat id;
	} aliases[] = {
		{ "chainlength", CTP_STAT_CHAINTOOLONG },
		{ "clashres", CTP_STAT_CLASH_RESOLVE },
		{ "icmp_error", CTP_STAT_ERROR },
	};
	for (int i = 0; i < CTP_STAT_COUNT; i++)
		if (strlen(stat_names[i]) == len &&
		    memcmp(stat_names[i], name, len) == 0)
			return i;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i].alias) == len &&
		    memcmp(aliases[i].alias, name, len) == 0)
			return (int)aliases[i].id;
	return -1;
}

void ctp_format_names(unsigned fmt, char *buf, size_t size)
{
	static const char *const names[] = {
		"conntrack-L", "conntrack-L-extended", "proc-nf_conntrack",
		"conntrack-L-xml", "conntrack-L-save", "conntrack-S",
		"proc-stat-nf_conntrack", "conntrack-C", "sysctl",
		"uname", "meminfo", "conntrack-E", "kmsg", "slabinfo",
		"kube-proxy",
	};
	size_t used = 0;

	if (!size)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(fmt & (1u << i)))
			continue;
		size_t n = strlen(names[i]);
		if (used + n + 2 > size)
			break;
		if (used)
			buf[used++] = '+';
		memcpy(buf + used, names[i], n + 1);
		used += n;
	}
	if (!used)
		snprintf(buf, size, "unknown");
}

int ctp_snapshot_new(ctp_snapshot **out)
{
	ctp_snapshot *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return CTP_ENOMEM;
	s->pool = malloc(256);
	if (!s->pool) {
		free(s);
		return CTP_ENOMEM;
	}
	s->pool[0] = '\0';
	s->poollen = 1;
	s->poolcap = 256;
	*out = s;
	return 0;
}

static void free_kv(ctp_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].val);
	}
	free(kv);
}

void ctp_snapshot_free(ctp_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ninputs; i++) {
		free((char *)s->inputs[i].path);
		free((char *)s->inputs[i].ns);
		free((char *)s->inputs[i].error);
	}
	free(s->inputs);
	free(s->stats);
	free(s->overlap);
	free(s->flows);
	free(s->addr6);
	free(s->extras);
	free(s->pool);
	free_kv(s->sysctl, s->nsysctl);
	free_kv(s->meminfo, s->nmeminfo);
	free(s->kevents);
	free(s);
}

int ctp_snapshot_add_input(ctp_snapshot *s, const char *path, const char *ns,
			   uint16_t *out)
{
	ctp_input_info *in;
	size_t oldcap = s->capinputs;

	if (s->ninputs >= UINT16_MAX)
		return CTP_EFAIL;
	if (ctp_grow((void **)&s->inputs, &s->capinputs, s->ninputs + 1,
		 sizeof(*s->inputs)))
		return CTP_ENOMEM;
	/* stats grows in step with inputs, when capinputs grew above (a
	 * realloc per input may copy: 65535 inputs, quadratic) */
	if (s->capinputs != oldcap) {
		ctp_stat_set *st = realloc(s->stats,
					   s->capinputs * sizeof(*st));
		if (!st) {
			s->capinputs = oldcap; /* stats still fits that */
			return CTP_ENOMEM;
		}
		s->stats = st;
	}
	in = &s->inputs[s->ninputs];
	memset(in, 0, sizeof(*in));
	memset(&s->stats[s->ninputs], 0, sizeof(s->stats[0]));
	/* names are data: kept escaped (ctplan/escape.h), so no report,
	 * JSON string or message built from them carries a control byte
	 * or a byte that is not UTF-8 */
	in->path = ctp_escape_dup(path ? path : "-");
	in->ns = ctp_escape_dup(ns ? ns : "");
	if (!in->path || !in->ns) {
		free((char *)in->path);
		free((char *)in->ns);
		return CTP_ENOMEM;
	}
	*out = (uint16_t)s->ninputs++;
	return 0;
}

int ctp_snapshot_input_failed(ctp_snapshot *s, const char *path,
			      const char *ns, const char *why)
{
	ctp_input_info *in = NULL;
	uint16_t idx;
	int rc;

	char *epath = ctp_escape_dup(path);

	if (!epath)
		return CTP_ENOMEM;
	s->read_errors++;
	/* the input being read is the last one (paths are kept escaped) */
	if (s->ninputs &&
	    strcmp(s->inputs[s->ninputs - 1].path, epath) == 0)
		in = &s->inputs[s->ninputs - 1];
	free(epath);
	if (!in) {
		if ((rc = ctp_snapshot_add_input(s, path, ns, &idx)))
			return rc;
		in = &s->inputs[idx];
	}
	if (in->error)
		return 0;
	in->error = strdup(why);
	return in->error ? 0 : CTP_ENOMEM;
}

int ctp_snapshot_add_skipped(ctp_snapshot *s, const char *path,
			     const char *ns)
{
	uint16_t idx;
	int rc;

	if (s->skipped_listed >= CTP_SKIPPED_LISTED) {
		s->skipped_more++;
		return 0;
	}
	rc = ctp_snapshot_add_input(s, path, ns, &idx);
	if (rc == CTP_EFAIL) {
		s->skipped_more++;
		return 0;
	}
	if (rc)
		return rc;
	s->inputs[idx].skipped = 1;
	s->skipped_listed++;
	return 0;
}

uint64_t ctp_snapshot_skipped_more(const ctp_snapshot *s)
{
	return s->skipped_more;
}

size_t ctp_snapshot_read_errors(const ctp_snapshot *s)
{
	return s->read_errors;
}

ctp_input_info *ctp_snapshot_input_mut(ctp_snapshot *s, uint16_t input)
{
	return input < s->ninputs ? &s->inputs[input] : NULL;
}

uint32_t ctp_snapshot_intern(ctp_snapshot *s, const char *str, size_t len)
{
	size_t off = s->poollen;

	if (len == 0)
		return 0;
	if (ctp_escape_needed(str, len)) {
		/* text from the input (helper, label names): escaped */
		size_t need = ctp_escape(NULL, 0, str, len);
		char *e = malloc(need + 1);
		uint32_t r;

		if (!e)
			return 0;
		ctp_escape(e, need + 1, str, len);
		r = ctp_snapshot_intern(s, e, need);
		free(e);
		return r;
	}
	if (off + len + 1 > UINT32_MAX)
		return 0;
	if (ctp_grow((void **)&s->pool, &s->poolcap, off + len + 1, 1))
		return 0;
	memcpy(s->pool + off, str, len);
	s->pool[off + len] = '\0';
	s->poollen += len + 1;
	return (uint32_t)off;
}

const char *ctp_snapshot_str(const ctp_snapshot *s, uint32_t off)
{
	return off < s->poollen ? s->pool + off : "";
}

/* Do the four addresses of f each fit in their first 4 bytes? */
static int addrs_fit_v4(const ctp_flow *f)
{
	const uint8_t *a[4] = { f->orig.src, f->orig.dst, f->reply.src,
				f->reply.dst };
	static const uint8_t zero[12];

	for (int k = 0; k < 4; k++)
		if (memcmp(a[k] + 4, zero, sizeof(zero)))
			return 0;
	return 1;
}

int ctp_snapshot_add_flow(ctp_snapshot *s, const ctp_flow *flow,
			  const ctp_flow_extra *extra)
{
	flow_rec r;

	if (flow->flags & CTP_F_SNAPSHOT)
		return CTP_EFAIL;
	/* grown before anything is kept, so a failure leaves no trace
	 * (realloc of a large block moves pages by mremap, not copies) */
	if (ctp_grow((void **)&s->flows, &s->capflows, s->nflows + 1,
		 sizeof(*s->flows)))
		return CTP_ENOMEM;
	memset(&r, 0, sizeof(r));
	r.port[0] = flow->orig.sport;
	r.port[1] = flow->orig.dport;
	r.port[2] = flow->reply.sport;
	r.port[3] = flow->reply.dport;
	r.timeout = flow->timeout;
	r.mark = flow->mark;
	r.extra = CTP_NO_EXTRA;
	r.flags = flow->flags;
	r.zone = flow->zone;
	r.input = flow->input;
	r.use = flow->use;
	r.family = flow->family;
	r.proto = flow->proto;
	r.state = flow->state;
	r.event = flow->event;
	if (addrs_fit_v4(flow)) {
		memcpy(r.a.v4[0], flow->orig.src, 4);
		memcpy(r.a.v4[1], flow->orig.dst, 4);
		memcpy(r.a.v4[2], flow->reply.src, 4);
		memcpy(r.a.v4[3], flow->reply.dst, 4);
	} else {
		flow_addr6 *a;

		if (s->naddr6 >= UINT32_MAX ||
		    ctp_grow((void **)&s->addr6, &s->capaddr6, s->naddr6 + 1,
			 sizeof(*s->addr6)))
			return CTP_ENOMEM;
		a = &s->addr6[s->naddr6];
		memcpy(a->a[0], flow->orig.src, 16);
		memcpy(a->a[1], flow->orig.dst, 16);
		memcpy(a->a[2], flow->reply.src, 16);
		memcpy(a->a[3], flow->reply.dst, 16);
		r.a.side = (uint32_t)s->naddr6;
		r.flags |= REC_SIDE;
	}
	if (extra && extra->present) {
		if (s->nextras >= CTP_NO_EXTRA ||
		    ctp_grow((void **)&s->extras, &s->capextras, s->nextras + 1,
			 sizeof(*s->extras)))
			return CTP_ENOMEM;
		s->extras[s->nextras] = *extra;
		r.extra = (uint32_t)s->nextras++;
	}
	/* the side addresses are kept only now that nothing can fail */
	if (r.flags & REC_SIDE)
		s->naddr6++;
	s->flows[s->nflows++] = r;
	if (flow->input < s->ninputs)
		s->inputs[flow->input].flows++;
	return 0;
}

int ctp_snapshot_add_stat(ctp_snapshot *s, uint16_t input, ctp_stat id,
			  uint64_t value)
{
	ctp_stat_set *st;

	if (input >= s->ninputs || (unsigned)id >= CTP_STAT_COUNT)
		return CTP_EFAIL;
	st = &s->stats[input];
	/* entries is the global count, repeated on every CPU row of
	 * /proc/net/stat/nf_conntrack: keep it, do not sum it */
	if (id == CTP_STAT_ENTRIES)
		st->v[id] = value;
	else
		st->v[id] += value;
	st->present |= 1u << id;
	return 0;
}

void ctp_snapshot_stat_row(ctp_snapshot *s, uint16_t input)
{
	if (input < s->ninputs)
		s->stats[input].rows++;
}

static char *dupn(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

/* Where key is, or would go, in the sorted kv[0, n); *found if there. */
static size_t kv_find(const ctp_kv *kv, size_t n, const char *key,
		      size_t klen, int *found)
{
	size_t lo = 0, hi = n;

	*found = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *k = kv[mid].key;
		int c = strncmp(k, key, klen);
		if (c == 0 && k[klen] != '\0')
			c = 1;
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Settings come in any order (a merged or hostile dump need not be
 * sorted), and an insert into a sorted array moves half of it: 1M keys
 * in random order took 90 s that way.  So a new key is appended to an
 * unsorted tail, which is sorted and merged in when it outgrows the
 * sorted part and before any read (kv_flush): O(log n) per key.  Keys
 * are never both in the sorted part and in the tail; the tail may hold
 * a key more than once, and the later one wins.
 */
typedef struct kv_seq {
	ctp_kv kv;
	size_t seq;
} kv_seq;

static int kv_seq_cmp(const void *pa, const void *pb)
{
	const kv_seq *a = pa, *b = pb;
	int c = strcmp(a->kv.key, b->kv.key);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Insert or replace kv[i] into the sorted kv[0, *sorted), in place. */
static void kv_insert_one(ctp_kv *kv, size_t *sorted, ctp_kv e)
{
	int found;
	size_t at = kv_find(kv, *sorted, e.key, strlen(e.key), &found);

	if (found) {
		free(kv[at].val);
		kv[at].val = e.val;
		free(e.key);
		return;
	}
	memmove(&kv[at + 1], &kv[at], (*sorted - at) * sizeof(*kv));
	kv[at] = e;
	(*sorted)++;
}

/* Merge the tail kv[*sorted, *n) into the sorted part. */
static void kv_flush(ctp_kv *kv, size_t *n, size_t *sorted)
{
	size_t t = *n - *sorted, u = 0, i, k;
	kv_seq *tail;

	if (!t)
		return;
	tail = malloc(t * sizeof(*tail));
	if (!tail) {
		/* no memory to sort with: insert one by one, slowly */
		for (i = *sorted; i < *n; i++)
			kv_insert_one(kv, sorted, kv[i]);
		*n = *sorted;
		return;
	}
	for (i = 0; i < t; i++) {
		tail[i].kv = kv[*sorted + i];
		tail[i].seq = i;
	}
	qsort(tail, t, sizeof(*tail), kv_seq_cmp);
	/* of equal keys keep the last set */
	for (i = 0; i < t; i++) {
		if (i + 1 < t &&
		    strcmp(tail[i].kv.key, tail[i + 1].kv.key) == 0) {
			free(tail[i].kv.key);
			free(tail[i].kv.val);
			continue;
		}
		tail[u++] = tail[i];
	}
	/* merge from the back: kv has room for sorted + u */
	i = *sorted;
	k = *sorted + u;
	*sorted = *n = k;
	while (u) {
		if (i && strcmp(kv[i - 1].key, tail[u - 1].kv.key) > 0)
			kv[--k] = kv[--i];
		else
			kv[--k] = tail[--u].kv;
	}
	free(tail);
}

/* Insert or replace key in a kv array (see kv_flush). */
static int kv_set(ctp_kv **arr, size_t *n, size_t *cap, size_t *sorted,
		  const char *key, size_t klen, const char *val, size_t vlen)
{
	int found;
	size_t at;
	char *v, *k;

	/* stored as a C string: a NUL ends the key */
	klen = strnlen(key, klen);
	at = kv_find(*arr, *sorted, key, klen, &found);
	v = dupn(val, vlen);
	if (!v)
		return CTP_ENOMEM;
	if (found) {
		free((*arr)[at].val);
		(*arr)[at].val = v;
		return 0;
	}
	k = dupn(key, klen);
	if (!k || ctp_grow((void **)arr, cap, *n + 1, sizeof(**arr))) {
		free(v);
		free(k);
		return CTP_ENOMEM;
	}
	(*arr)[*n].key = k;
	(*arr)[*n].val = v;
	(*n)++;
	if (*n - *sorted > 64 && *n - *sorted > *sorted)
		kv_flush(*arr, n, sorted);
	return 0;
}

/* Readers see sorted arrays: merge what was added since the last read.
 * Only the parsing thread adds, and finalize flushes, so the analyzer's
 * threads read without writing. */
/* Sort what was set since the last sort (ctp_snapshot_finalize). */
static void kv_ready(ctp_snapshot *s)
{
	kv_flush(s->sysctl, &s->nsysctl, &s->sortedsysctl);
	kv_flush(s->meminfo, &s->nmeminfo, &s->sortedmeminfo);
}

/*
 * key in arr[0 .. n), of which arr[0 .. sorted) is sorted: the unsorted
 * tail first, newest first (the last set wins), then a binary search.
 * Reads only: a snapshot that is not finalized yet is not changed.
 */
static const ctp_kv *kv_get(const ctp_kv *arr, size_t n, size_t sorted,
			    const char *key)
{
	size_t lo = 0, hi = sorted;

	for (size_t i = n; i > sorted; i--)
		if (strcmp(arr[i - 1].key, key) == 0)
			return &arr[i - 1];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(arr[mid].key, key);
		if (c == 0)
			return &arr[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int ctp_snapshot_set_sysctl(ctp_snapshot *s, const char *key, size_t klen,
			    const char *val, size_t vlen)
{
	return kv_set(&s->sysctl, &s->nsysctl, &s->capsysctl,
		      &s->sortedsysctl, key, klen, val, vlen);
}

void ctp_snapshot_set_count(ctp_snapshot *s, uint64_t count)
{
	s->count = count;
	s->has_count = 1;
}

void ctp_snapshot_set_kernel(ctp_snapshot *s, const ctp_kernel_info *k)
{
	char node[sizeof(k->nodename)];

	/* uname -r after uname -a: the release again, the name kept */
	memcpy(node, s->kernel.nodename, sizeof(node));
	s->kernel = *k;
	/* the release and machine are text from the input */
	ctp_escape(s->kernel.release, sizeof(s->kernel.release), k->release,
		   strnlen(k->release, sizeof(k->release)));
	ctp_escape(s->kernel.machine, sizeof(s->kernel.machine), k->machine,
		   strnlen(k->machine, sizeof(k->machine)));
	/* so is the nodename; uname -r has none and keeps the one read */
	if (k->nodename[0])
		ctp_escape(s->kernel.nodename, sizeof(s->kernel.nodename),
			   k->nodename,
			   strnlen(k->nodename, sizeof(k->nodename)));
	else
		memcpy(s->kernel.nodename, node, sizeof(node));
	s->has_kernel = 1;
}

void ctp_snapshot_set_slab(ctp_snapshot *s, const ctp_slab_info *slab)
{
	if (s->has_slab)
		return;
	s->slab = *slab;
	s->has_slab = 1;
}

const ctp_slab_info *ctp_snapshot_slab(const ctp_snapshot *s)
{
	return s->has_slab ? &s->slab : NULL;
}

ctp_kube_proxy *ctp_snapshot_kube_proxy_mut(ctp_snapshot *s)
{
	return &s->kube_proxy;
}

const ctp_kube_proxy *ctp_snapshot_kube_proxy(const ctp_snapshot *s)
{
	return &s->kube_proxy;
}

int ctp_snapshot_set_meminfo(ctp_snapshot *s, const char *key, size_t klen,
			     uint64_t value)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);

	return kv_set(&s->meminfo, &s->nmeminfo, &s->capmeminfo,
		      &s->sortedmeminfo, key, klen, buf, (size_t)n);
}

int ctp_snapshot_add_kevent(ctp_snapshot *s, const ctp_kevent *ev)
{
	if (ctp_grow((void **)&s->kevents, &s->capkevents, s->nkevents + 1,
		 sizeof(*s->kevents)))
		return CTP_ENOMEM;
	s->kevents[s->nkevents++] = *ev;
	return 0;
}

/* ---- finalize: one table out of several forms of it ---- */

typedef struct dkey {
	uint64_t hash;
	uint32_t flow;
	uint32_t ns; /* interned ns label of the flow's input */
} dkey;

/* Tuple dir (0 original, 1 reply) of a stored flow, as it was added. */
static void rec_tuple(const ctp_snapshot *s, const flow_rec *r, int dir,
		      ctp_tuple *t)
{
	if (r->flags & REC_SIDE) {
		const flow_addr6 *a = &s->addr6[r->a.side];

		memcpy(t->src, a->a[2 * dir], 16);
		memcpy(t->dst, a->a[2 * dir + 1], 16);
	} else {
		memcpy(t->src, r->a.v4[2 * dir], 4);
		memset(t->src + 4, 0, 12);
		memcpy(t->dst, r->a.v4[2 * dir + 1], 4);
		memset(t->dst + 4, 0, 12);
	}
	t->sport = r->port[2 * dir];
	t->dport = r->port[2 * dir + 1];
}

/* The match key: family, protocol, zone, original tuple.  ICMP type,
 * code and id are left out because -o xml does not print them. */
static void key_tuple(const ctp_snapshot *s, const flow_rec *f,
		      ctp_tuple *t)
{
	rec_tuple(s, f, 0, t);
	if (ctp_proto_is_icmp(f->proto)) {
		t->sport = 0;
		t->dport = 0;
	}
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int key_cmp_flows(const ctp_snapshot *s, const dkey *a,
			 const dkey *b)
{
	const flow_rec *fa = &s->flows[a->flow], *fb = &s->flows[b->flow];
	ctp_tuple ta, tb;

	if (a->ns != b->ns)
		return a->ns < b->ns ? -1 : 1;
	if (fa->family != fb->family)
		return fa->family < fb->family ? -1 : 1;
	if (fa->proto != fb->proto)
		return fa->proto < fb->proto ? -1 : 1;
	if (fa->zone != fb->zone)
		return fa->zone < fb->zone ? -1 : 1;
	key_tuple(s, fa, &ta);
	key_tuple(s, fb, &tb);
	return memcmp(&ta, &tb, sizeof(ta));
}

static int dkey_cmp(const void *pa, const void *pb, void *ctx)
{
	const dkey *a = pa, *b = pb;
	int c;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	c = key_cmp_flows(ctx, a, b);
	if (c)
		return c;
	return a->flow < b->flow ? -1 : a->flow > b->flow;
}

/* Does input a hold more of a group than input b (ties: the one whose
 * first entry of the group has ICMP details, then the earlier input)?
 * details[in] was noted once per group: looking it up in the group for
 * every entry made a group of n copies cost n * n. */
static int better_source(const size_t *per_input,
			 const unsigned char *details, size_t a, size_t b)
{
	if (per_input[a] != per_input[b])
		return per_input[a] > per_input[b];
	if (details[a] != details[b])
		return details[a] > details[b];
	return a < b;
}

/* inputs by namespace label, then index */
static int ns_cmp(const void *pa, const void *pb, void *ctx)
{
	const ctp_snapshot *s = ctx;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	int c = strcmp(s->inputs[a].ns, s->inputs[b].ns);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

int ctp_snapshot_finalize(ctp_snapshot *s)
{
	size_t n = 0, with_flows = 0;
	dkey *keys;
	uint32_t *ns_of, *by_ns;
	size_t *per_input;
	unsigned char *details;

	kv_ready(s);
	free(s->overlap);
	s->overlap = calloc(s->ninputs ? s->ninputs * s->ninputs : 1, 1);
	if (!s->overlap)
		return CTP_ENOMEM;
	for (size_t i = 0; i < s->ninputs; i++)
		if (s->inputs[i].flows)
			with_flows++;
	if (with_flows < 2)
		return 0;

	keys = malloc(s->nflows * sizeof(*keys));
	ns_of = calloc(s->ninputs, sizeof(*ns_of));
	by_ns = calloc(s->ninputs, sizeof(*by_ns));
	per_input = calloc(s->ninputs, sizeof(*per_input));
	details = calloc(s->ninputs, 1);
	if (!keys || !ns_of || !by_ns || !per_input || !details) {
		free(keys);
		free(ns_of);
		free(by_ns);
		free(per_input);
		free(details);
		return CTP_ENOMEM;
	}
	/* label namespaces by the first input carrying the same label
	 * (sorted, not pairwise: a bundle may hold 65535 inputs) */
	for (size_t i = 0; i < s->ninputs; i++)
		by_ns[i] = (uint32_t)i;
	qsort_r(by_ns, s->ninputs, sizeof(*by_ns), ns_cmp, s);
	for (size_t i = 0; i < s->ninputs; i++)
		ns_of[by_ns[i]] =
			i && strcmp(s->inputs[by_ns[i]].ns,
				    s->inputs[by_ns[i - 1]].ns) == 0
				? ns_of[by_ns[i - 1]]
				: by_ns[i];
	free(by_ns);
	for (size_t i = 0; i < s->nflows; i++) {
		const flow_rec *f = &s->flows[i];
		ctp_tuple t;
		uint64_t h = 0xcbf29ce484222325ULL;
		uint32_t ns = ns_of[f->input];

		if (f->flags & CTP_F_EVENT)
			continue;
		key_tuple(s, f, &t);
		h = fnv(h, &ns, sizeof(ns));
		h = fnv(h, &f->family, 1);
		h = fnv(h, &f->proto, 1);
		h = fnv(h, &f->zone, sizeof(f->zone));
		h = fnv(h, &t, sizeof(t));
		keys[n].hash = h;
		keys[n].flow = (uint32_t)i;
		keys[n].ns = ns;
		n++;
	}
	qsort_r(keys, n, sizeof(*keys), dkey_cmp, s);

	for (size_t i = 0; i < n;) {
		size_t j = i + 1, best_in, keep;

		while (j < n && keys[j].hash == keys[i].hash &&
		       key_cmp_flows(s, &keys[i], &keys[j]) == 0)
			j++;
		if (j - i > 1) {
			/* The group's entries are the most any one input
			 * shows; keep that input's records (on a tie, the
			 * one with ICMP details, then the earliest). */
			for (size_t k = i; k < j; k++) {
				const flow_rec *f = &s->flows[keys[k].flow];
				if (!per_input[f->input]++)
					details[f->input] =
						!(f->flags & CTP_F_NO_ICMP);
			}
			best_in = s->flows[keys[i].flow].input;
			for (size_t k = i; k < j; k++) {
				const flow_rec *f = &s->flows[keys[k].flow];
				if (better_source(per_input, details, f->input,
						  best_in))
					best_in = f->input;
			}
			keep = best_in;
			for (size_t k = i; k < j; k++) {
				flow_rec *f = &s->flows[keys[k].flow];
				if (f->input != keep) {
					f->flags |= CTP_F_DUP;
					s->inputs[f->input].duplicates++;
					s->overlap[f->input * s->ninputs +
						   keep] = 1;
					s->overlap[keep * s->ninputs +
						   f->input] = 1;
				}
			}
			for (size_t k = i; k < j; k++)
				per_input[s->flows[keys[k].flow].input] = 0;
		}
		i = j;
	}
	free(keys);
	free(ns_of);
	free(per_input);
	free(details);
	return 0;
}

/* ---- reading ---- */

size_t ctp_snapshot_input_count(const ctp_snapshot *s)
{
	return s->ninputs;
}

const ctp_input_info *ctp_snapshot_input(const ctp_snapshot *s, size_t i)
{
	return i < s->ninputs ? &s->inputs[i] : NULL;
}

int ctp_snapshot_inputs_overlap(const ctp_snapshot *s, size_t a, size_t b)
{
	if (!s->overlap || a >= s->ninputs || b >= s->ninputs)
		return 0;
	return s->overlap[a * s->ninputs + b];
}

size_t ctp_snapshot_flow_count(const ctp_snapshot *s)
{
	return s->nflows;
}

void ctp_snapshot_flow_get(const ctp_snapshot *s, size_t i, ctp_flow *out)
{
	const flow_rec *r = &s->flows[i];

	rec_tuple(s, r, 0, &out->orig);
	rec_tuple(s, r, 1, &out->reply);
	out->timeout = r->timeout;
	out->mark = r->mark;
	out->extra = r->extra;
	out->flags = r->flags & ~REC_SIDE;
	out->zone = r->zone;
	out->input = r->input;
	out->use = r->use;
	out->family = r->family;
	out->proto = r->proto;
	out->state = r->state;
	out->event = r->event;
}

uint16_t ctp_snapshot_flow_flags(const ctp_snapshot *s, size_t i)
{
	return s->flows[i].flags & ~REC_SIDE;
}

uint16_t ctp_snapshot_flow_input(const ctp_snapshot *s, size_t i)
{
	return s->flows[i].input;
}

void ctp_snapshot_flow_prefetch(const ctp_snapshot *s, size_t i)
{
	const flow_rec *r = &s->flows[i];

	/* a record may straddle two cache lines */
	__builtin_prefetch(r);
	__builtin_prefetch((const char *)r + sizeof(*r) - 1);
}

void ctp_snapshot_flow_prefetch_addrs(const ctp_snapshot *s, size_t i)
{
	const flow_rec *r = &s->flows[i];

	/* 64 bytes, but malloc aligns them to 16: two lines */
	if (r->flags & REC_SIDE) {
		const flow_addr6 *a = &s->addr6[r->a.side];

		__builtin_prefetch(a);
		__builtin_prefetch((const char *)a + sizeof(*a) - 1);
	}
}

const ctp_flow_extra *ctp_snapshot_extra(const ctp_snapshot *s,
					 const ctp_flow *f)
{
	return f->extra < s->nextras ? &s->extras[f->extra] : NULL;
}

static const ctp_stat_set *stat_source(const ctp_snapshot *s, int *input)
{
	/* The first input with counters is the source, so -S and
	 * /proc/net/stat of one host are not added up. */
	for (size_t i = 0; i < s->ninputs; i++)
		if (s->stats[i].present) {
			if (input)
				*input = (int)i;
			return &s->stats[i];
		}
	if (input)
		*input = -1;
	return NULL;
}

int ctp_snapshot_stat(const ctp_snapshot *s, ctp_stat id, uint64_t *out)
{
	const ctp_stat_set *st = stat_source(s, NULL);

	if (!st || (unsigned)id >= CTP_STAT_COUNT ||
	    !(st->present & (1u << id)))
		return 0;
	*out = st->v[id];
	return 1;
}

size_t ctp_snapshot_stat_cpus(const ctp_snapshot *s, int *input)
{
	const ctp_stat_set *st = stat_source(s, input);

	return st ? st->rows : 0;
}

const char *ctp_snapshot_sysctl(const ctp_snapshot *s, const char *key)
{
	const ctp_kv *kv;

	kv = kv_get(s->sysctl, s->nsysctl, s->sortedsysctl, key);

	return kv ? kv->val : NULL;
}

int ctp_snapshot_sysctl_u64(const ctp_snapshot *s, const char *key,
			    uint64_t *out)
{
	const char *v = ctp_snapshot_sysctl(s, key);
	uint64_t x = 0;

	if (!v || !*v)
		return 0;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' ||
		    x > (UINT64_MAX - (uint64_t)(*v - '0')) / 10)
			return 0;
		x = x * 10 + (uint64_t)(*v - '0');
	}
	*out = x;
	return 1;
}

size_t ctp_snapshot_sysctl_count(const ctp_snapshot *s)
{
	return s->nsysctl;
}

const char *ctp_snapshot_sysctl_at(const ctp_snapshot *s, size_t i,
				   const char **val)
{
	if (i >= s->nsysctl)
		return NULL;
	if (val)
		*val = s->sysctl[i].val;
	return s->sysctl[i].key;
}

int ctp_snapshot_count(const ctp_snapshot *s, uint64_t *out)
{
	if (!s->has_count)
		return 0;
	*out = s->count;
	return 1;
}

const ctp_kernel_info *ctp_snapshot_kernel(const ctp_snapshot *s)
{
	return s->has_kernel ? &s->kernel : NULL;
}

int ctp_snapshot_meminfo(const ctp_snapshot *s, const char *key,
			 uint64_t *out)
{
	const ctp_kv *kv;
	uint64_t x = 0;

	kv = kv_get(s->meminfo, s->nmeminfo, s->sortedmeminfo, key);
	if (!kv)
		return 0;
	for (const char *v = kv->val; *v; v++)
		x = x * 10 + (uint64_t)(*v - '0');
	*out = x;
	return 1;
}

size_t ctp_snapshot_kevent_count(const ctp_snapshot *s)
{
	return s->nkevents;
}

const ctp_kevent *ctp_snapshot_kevents(const ctp_snapshot *s)
{
	return s->kevents;
}
