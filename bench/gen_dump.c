/*
 * gen_dump: a deterministic `conntrack -L` dump of a busy container host,
 * for the benchmark (bench/run.sh), never for the test suite.
 *
 *   gen_dump [-s SEED] [-n ENTRIES] [-o FILE]
 *
 * The same seed and size give the same bytes on every machine (one
 * xoshiro256** stream, no clock, no locale).  The mix, per entry:
 *   - 85% IPv4, 15% IPv6; pods in 198.18.0.0/15 and 2001:db8:1::/64,
 *     the node's uplink 192.0.2.10 / 2001:db8:ff::10, the world in
 *     198.51.100.0/24, 203.0.113.0/24 and 2001:db8:2::/64 (documentation
 *     ranges only);
 *   - pod to the world through MASQUERADE (the bulk), pod to cluster DNS
 *     and to services through kube-proxy DNAT, clients from the world to
 *     a NodePort, and un-NATed node/pod traffic;
 *   - TCP in every state with the remaining timeout drawn below the
 *     kernel's default for that state (nf_conntrack_proto_tcp.c
 *     tcp_timeouts[], 6.1), UDP replied, unreplied and assured
 *     (nf_conntrack_proto_udp.c), ICMP / ICMPv6 echo;
 *   - source NAT keeps the pod's port unless the reply tuple is taken,
 *     then picks another (what nf_nat_l4proto_unique_tuple does), so the
 *     remaps come from real clashes on hot destinations;
 *   - a share of tenants in conntrack zones 1-12.
 * Lines are shaped as conntrack-tools 1.4.7 prints them by default
 * (libnetfilter_conntrack snprintf_default.c; see samples/lab-6.18/
 * conntrack_-L): "%-8s %u " protocol, timeout, state, the original tuple,
 * [UNREPLIED], the reply tuple, [ASSURED], mark=, zone=, use=.
 * The order of entries is random, as a walk of the hash table is.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers: xoshiro256** seeded by splitmix64 ---- */

typedef struct rng {
	uint64_t s[4];
} rng;

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next(rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* uniform in [0, n): the multiply-shift bias is < n / 2^64, nil here */
static uint32_t below(rng *r, uint32_t n)
{
	return (uint32_t)(((next(r) >> 32) * (uint64_t)n) >> 32);
}

/* per mille */
static int chance(rng *r, unsigned pm)
{
	return below(r, 1000) < pm;
}

/* ---- the reply tuples source NAT has handed out ---- */

/*
 * Open addressing over 64-bit fingerprints of (proto, remote address,
 * remote port, node address, node port).  A false match only adds a
 * remap, so fingerprints are enough.
 */
typedef struct tupset {
	uint64_t *slot;
	size_t mask;
} tupset;

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* 1 if added, 0 if already there */
static int tupset_add(tupset *t, uint64_t fp)
{
	size_t i;

	fp |= 1; /* 0 marks an empty slot */
	for (i = (size_t)mix64(fp) & t->mask; t->slot[i];
	     i = (i + 1) & t->mask)
		if (t->slot[i] == fp)
			return 0;
	t->slot[i] = fp;
	return 1;
}

/* ---- output ---- */

typedef struct obuf {
	FILE *fp;
	char buf[1 << 20];
	size_t len;
} obuf;

static void flush_out(obuf *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->fp) != o->len) {
		fprintf(stderr, "gen_dump: write error: %s\n",
			strerror(errno));
		exit(1);
	}
	o->len = 0;
}

static void put(obuf *o, const char *s, size_t n)
{
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_str(obuf *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putu(obuf *o, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		o->buf[o->len++] = tmp[--n];
}

static void puthex(obuf *o, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[8];
	size_t n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		o->buf[o->len++] = tmp[--n];
}

/*
 * An address: IPv4 as a host-order number, IPv6 as a /64 prefix kind
 * plus a 64-bit interface id printed the way inet_ntop compresses it
 * (the prefixes here are 2001:db8:N::/64, so the zero run sits between
 * the prefix and the id; ids with zero groups of their own are avoided
 * by the generators below, so one "::" is always right).
 */
typedef struct addr {
	int v6;
	uint32_t v4;
	unsigned net;  /* v6: the N of 2001:db8:N:: */
	uint64_t iid;  /* v6: interface id, all four groups non-zero or
			* only the last group non-zero */
} addr;

static void put_addr(obuf *o, const addr *a)
{
	if (!a->v6) {
		putu(o, a->v4 >> 24);
		o->buf[o->len++] = '.';
		putu(o, (a->v4 >> 16) & 255);
		o->buf[o->len++] = '.';
		putu(o, (a->v4 >> 8) & 255);
		o->buf[o->len++] = '.';
		putu(o, a->v4 & 255);
		return;
	}
	put_str(o, "2001:db8:");
	puthex(o, a->net);
	if (a->iid >> 16 == 0) {
		/* 2001:db8:N:0:0:0:0:X -> 2001:db8:N::X */
		put_str(o, "::");
		puthex(o, (unsigned)a->iid);
		return;
	}
	/* 2001:db8:N:0:a:b:c:d -> 2001:db8:N:0:a:b:c:d (one zero group
	 * stays: inet_ntop compresses runs of two or more only) */
	put_str(o, ":0");
	for (int g = 3; g >= 0; g--) {
		o->buf[o->len++] = ':';
		puthex(o, (unsigned)(a->iid >> (16 * g)) & 0xffff);
	}
}

static void put_tuple(obuf *o, const addr *src, const addr *dst,
		      int icmp, unsigned sport, unsigned dport)
{
	put_str(o, "src=");
	put_addr(o, src);
	put_str(o, " dst=");
	put_addr(o, dst);
	if (icmp) {
		/* icmp: sport carries the id, dport the type */
		put_str(o, " type=");
		putu(o, dport);
		put_str(o, " code=0 id=");
		putu(o, sport);
	} else {
		put_str(o, " sport=");
		putu(o, sport);
		put_str(o, " dport=");
		putu(o, dport);
	}
	o->buf[o->len++] = ' ';
}

/* ---- the host ---- */

enum { P_TCP = 6, P_UDP = 17, P_ICMP = 1, P_ICMPV6 = 58 };

/* TCP states with their share (per mille, of TCP entries) and the
 * kernel's default timeout in seconds (tcp_timeouts[], 6.1) */
static const struct tcp_state {
	const char *name;
	unsigned share;
	unsigned timeout;
	int unreplied, assured;
} tcp_states[] = {
	{ "ESTABLISHED", 520, 432000, 0, 1 },
	{ "TIME_WAIT", 330, 120, 0, 1 },
	{ "SYN_SENT", 30, 120, 1, 0 },
	{ "SYN_RECV", 10, 60, 0, 0 },
	{ "FIN_WAIT", 30, 120, 0, 1 },
	{ "CLOSE_WAIT", 45, 60, 0, 1 },
	{ "LAST_ACK", 15, 30, 0, 1 },
	{ "CLOSE", 20, 10, 0, 1 },
};

static const struct tcp_state *pick_tcp_state(rng *r)
{
	unsigned x = below(r, 1000), acc = 0;
	size_t n = sizeof(tcp_states) / sizeof(tcp_states[0]);

	for (size_t i = 0; i < n; i++) {
		acc += tcp_states[i].share;
		if (x < acc)
			return &tcp_states[i];
	}
	return &tcp_states[0];
}

/* remaining seconds: established entries are mostly refreshed just now */
static unsigned remaining(rng *r, unsigned timeout)
{
	if (timeout > 1000 && chance(r, 700))
		return timeout - 1 - below(r, 60);
	return below(r, timeout);
}

typedef struct host {
	rng r;
	tupset nat;
	uint64_t remaps;
} host;

static addr v4(uint32_t a)
{
	addr x = { 0, a, 0, 0 };

	return x;
}

static addr v6(unsigned net, uint64_t iid)
{
	addr x = { 1, 0, net, iid };

	return x;
}

/* a non-zero 16-bit group */
static uint64_t group(rng *r)
{
	return 1 + below(r, 0xffff);
}

static addr pod(host *h, int six)
{
	/* 198.18.0.0/15 minus the .0 and .255 of each /24 and the
	 * service ranges in 198.19.254.0/23 */
	if (!six)
		return v4(0xc6120000u | (below(&h->r, 510) << 8) |
			  (1 + below(&h->r, 254)));
	return v6(1, (group(&h->r) << 48) | (group(&h->r) << 32) |
			     (group(&h->r) << 16) | group(&h->r));
}

/*
 * A remote host: half the traffic goes to 16 hot endpoints (registries,
 * cloud APIs, databases), the rest anywhere in the two /24s.
 */
static addr remote(host *h, int six)
{
	unsigned i = chance(&h->r, 500) ? below(&h->r, 16)
					: below(&h->r, 508);

	if (!six)
		return v4(i < 254 ? 0xc6336401u + i	 /* 198.51.100.x */
				  : 0xcb007101u + (i - 254)); /* 203.0.113 */
	return v6(2, 1 + i);
}

static addr node(int six)
{
	return six ? v6(0xff, 0x10) : v4(0xc000020au); /* 192.0.2.10 */
}

static unsigned ephemeral(host *h)
{
	/* ip_local_port_range default: 32768-60999 */
	return 32768 + below(&h->r, 60999 - 32768 + 1);
}

/* A port well known services listen on, weighted like egress traffic. */
static unsigned service_port(host *h, int *proto)
{
	static const struct {
		unsigned port, share, proto;
	} svc[] = {
		{ 443, 620, P_TCP }, { 80, 120, P_TCP },  { 5432, 40, P_TCP },
		{ 6379, 40, P_TCP }, { 9092, 30, P_TCP }, { 8080, 30, P_TCP },
		{ 53, 60, P_UDP },   { 123, 20, P_UDP },  { 443, 30, P_UDP },
		{ 4789, 10, P_UDP },
	};
	unsigned x = below(&h->r, 1000), acc = 0;

	for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++) {
		acc += svc[i].share;
		if (x < acc) {
			*proto = (int)svc[i].proto;
			return svc[i].port;
		}
	}
	*proto = P_TCP;
	return 443;
}

/* The node's source port for a masqueraded flow: the pod's own port
 * unless that reply tuple is taken, then another from 1024-65535. */
static unsigned masq_port(host *h, int proto, const addr *rem,
			  unsigned rport, unsigned want)
{
	uint64_t base = ((uint64_t)proto << 56) ^
			(rem->v6 ? (rem->iid << 20) ^ 0xabcdULL : rem->v4) ^
			((uint64_t)rport << 32);
	unsigned port = want;

	for (int tries = 0; tries < 64; tries++) {
		if (tupset_add(&h->nat, mix64(base ^ ((uint64_t)port << 40))))
			break;
		port = 1024 + below(&h->r, 65536 - 1024);
	}
	if (port != want)
		h->remaps++;
	return port;
}

typedef struct entry {
	int proto, six;
	addr osrc, odst, rsrc, rdst;
	unsigned osport, odport, rsport, rdport;
	const char *state;
	unsigned timeout;
	int unreplied, assured;
	unsigned mark, zone;
} entry;

static void udp_shape(host *h, entry *e, int dns)
{
	unsigned x = below(&h->r, 1000);

	if (x < (dns ? 150u : 250u)) {
		e->unreplied = 1;
		e->timeout = below(&h->r, 30);
	} else if (x < (dns ? 900u : 450u)) {
		e->timeout = below(&h->r, 30); /* one reply seen */
	} else {
		e->assured = 1;
		e->timeout = below(&h->r, 120); /* udp_timeout_stream */
	}
}

static void tcp_shape(host *h, entry *e)
{
	const struct tcp_state *st = pick_tcp_state(&h->r);

	e->state = st->name;
	e->timeout = remaining(&h->r, st->timeout);
	e->unreplied = st->unreplied;
	e->assured = st->assured;
}

static void make_entry(host *h, entry *e)
{
	unsigned kind = below(&h->r, 1000);
	int proto;

	memset(e, 0, sizeof(*e));
	e->six = chance(&h->r, 150);
	if (kind < 30) {
		/* ping from a pod through MASQUERADE: the echo id is the
		 * "port" the kernel keeps unique */
		e->proto = e->six ? P_ICMPV6 : P_ICMP;
		e->osrc = pod(h, e->six);
		e->odst = remote(h, e->six);
		e->osport = below(&h->r, 65536);
		e->odport = e->six ? 128 : 8;
		e->rsrc = e->odst;
		e->rdst = node(e->six);
		e->rsport = masq_port(h, e->proto, &e->odst, 0, e->osport);
		e->rdport = e->six ? 129 : 0;
		e->timeout = below(&h->r, 30);
		e->unreplied = chance(&h->r, 100);
	} else if (kind < 620) {
		/* pod to the world through MASQUERADE */
		unsigned dport = service_port(h, &proto);
		e->proto = proto;
		e->osrc = pod(h, e->six);
		e->odst = remote(h, e->six);
		e->osport = ephemeral(h);
		e->odport = dport;
		e->rsrc = e->odst;
		e->rsport = dport;
		e->rdst = node(e->six);
		e->rdport = masq_port(h, proto, &e->odst, dport, e->osport);
		if (proto == P_TCP)
			tcp_shape(h, e);
		else
			udp_shape(h, e, dport == 53);
	} else if (kind < 770) {
		/* pod to cluster DNS: the service VIP DNATed to one of two
		 * CoreDNS pods, no source NAT */
		e->proto = P_UDP;
		e->osrc = pod(h, e->six);
		e->odst = e->six ? v6(1, 0xa) : v4(0xc613ff0au);
		e->osport = ephemeral(h);
		e->odport = 53;
		e->rsrc = e->six ? v6(1, 0x35 + below(&h->r, 2))
				 : v4(0xc6120035u + below(&h->r, 2));
		e->rsport = 53;
		e->rdst = e->osrc;
		e->rdport = e->osport;
		udp_shape(h, e, 1);
	} else if (kind < 870) {
		/* pod to a ClusterIP service, DNATed to a backend pod;
		 * kube-proxy marks it */
		e->proto = P_TCP;
		e->osrc = pod(h, e->six);
		e->odst = e->six ? v6(1, 0x100 + below(&h->r, 64))
				 : v4(0xc613fe00u + below(&h->r, 64));
		e->osport = ephemeral(h);
		e->odport = chance(&h->r, 500) ? 80 : 8080;
		e->rsrc = pod(h, e->six);
		e->rsport = 8080;
		e->rdst = e->osrc;
		e->rdport = e->osport;
		e->mark = chance(&h->r, 300) ? 16384 : 0;
		tcp_shape(h, e);
	} else if (kind < 930) {
		/* a client from the world to a NodePort, DNATed to a pod */
		e->proto = P_TCP;
		e->osrc = remote(h, e->six);
		e->odst = node(e->six);
		e->osport = 1024 + below(&h->r, 64512);
		e->odport = 30000 + below(&h->r, 40);
		e->rsrc = pod(h, e->six);
		e->rsport = 8080;
		e->rdst = e->osrc;
		e->rdport = e->osport;
		tcp_shape(h, e);
	} else {
		/* node and pods among themselves: no NAT */
		e->proto = chance(&h->r, 800) ? P_TCP : P_UDP;
		e->osrc = chance(&h->r, 300) ? node(e->six) : pod(h, e->six);
		e->odst = pod(h, e->six);
		e->osport = ephemeral(h);
		e->odport = e->proto == P_TCP ? 10250 : 8472;
		e->rsrc = e->odst;
		e->rsport = e->odport;
		e->rdst = e->osrc;
		e->rdport = e->osport;
		if (e->proto == P_TCP)
			tcp_shape(h, e);
		else
			udp_shape(h, e, 0);
	}
	/* tenants in their own conntrack zone */
	if (chance(&h->r, 60))
		e->zone = 1 + below(&h->r, 12);
}

static void put_entry(obuf *o, const entry *e)
{
	int icmp = e->proto == P_ICMP || e->proto == P_ICMPV6;

	put_str(o, e->proto == P_TCP    ? "tcp      6 "
		 : e->proto == P_UDP  ? "udp      17 "
		 : e->proto == P_ICMP ? "icmp     1 "
				      : "icmpv6   58 ");
	putu(o, e->timeout);
	o->buf[o->len++] = ' ';
	if (e->state) {
		put_str(o, e->state);
		o->buf[o->len++] = ' ';
	}
	put_tuple(o, &e->osrc, &e->odst, icmp, e->osport, e->odport);
	if (e->unreplied)
		put_str(o, "[UNREPLIED] ");
	put_tuple(o, &e->rsrc, &e->rdst, icmp, e->rsport, e->rdport);
	if (e->assured)
		put_str(o, "[ASSURED] ");
	put_str(o, "mark=");
	putu(o, e->mark);
	if (e->zone) {
		put_str(o, " zone=");
		putu(o, e->zone);
	}
	put_str(o, " use=1\n");
}

static int parse_count(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t n = strlen(s);

	if (n && (s[n - 1] == 'k' || s[n - 1] == 'K'))
		mul = 1000, n--;
	else if (n && (s[n - 1] == 'm' || s[n - 1] == 'M'))
		mul = 1000000, n--;
	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > UINT64_MAX / 10 - 9)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v * mul;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: gen_dump [-s SEED] [-n ENTRIES] [-o FILE]\n"
			"  ENTRIES may end in k or M (100k, 1M, 4M)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, n = 100000, sm;
	const char *path = NULL;
	static obuf o;
	host h;
	entry e;
	size_t cap = 1024;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "-s") == 0) {
			if (parse_count(argv[++i], &seed))
				usage();
		} else if (strcmp(argv[i], "-n") == 0) {
			if (parse_count(argv[++i], &n) || n > (1ULL << 30))
				usage();
		} else if (strcmp(argv[i], "-o") == 0) {
			path = argv[++i];
		} else {
			usage();
		}
	}
	o.fp = path ? fopen(path, "wb") : stdout;
	if (!o.fp) {
		fprintf(stderr, "gen_dump: cannot open '%s': %s\n", path,
			strerror(errno));
		return 1;
	}
	memset(&h, 0, sizeof(h));
	sm = seed;
	for (int i = 0; i < 4; i++)
		h.r.s[i] = splitmix(&sm);
	while (cap < 2 * n)
		cap *= 2;
	h.nat.mask = cap - 1;
	h.nat.slot = calloc(cap, sizeof(*h.nat.slot));
	if (!h.nat.slot) {
		fprintf(stderr, "gen_dump: out of memory\n");
		return 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		make_entry(&h, &e);
		put_entry(&o, &e);
		if (o.len > sizeof(o.buf) - 1024)
			flush_out(&o);
	}
	flush_out(&o);
	if (path && fclose(o.fp) != 0) {
		fprintf(stderr, "gen_dump: cannot write '%s': %s\n", path,
			strerror(errno));
		return 1;
	}
	fprintf(stderr, "gen_dump: %llu entries, %llu source ports remapped "
			"(seed %llu)\n",
		(unsigned long long)n, (unsigned long long)h.remaps,
		(unsigned long long)seed);
	free(h.nat.slot);
	return 0;
}
