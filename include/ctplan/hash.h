/*
 * ctplan hash model: the kernel's conntrack hash, era by era, and the
 * chain lengths of its table.
 *
 * Three layers:
 * - primitives: SipHash-2-4, lookup3/jhash2, the kernel's bucket scaling;
 * - tuples: a ctp_tuple turned into the bytes of the kernel's struct
 *   nf_conntrack_tuple, the message each era hashes, and the 32-bit hash
 *   for a key you give (what `ctplan buckets` prints);
 * - the chain model: every tuple of a snapshot placed into B buckets
 *   under K keys drawn from a seeded generator (ctplan/rng.h), the
 *   kernel's insert-time chain limit applied, now and with the table
 *   filled to a target.
 *
 * Nothing here prints or keeps global state.  Memory: a ctp_hash_result
 * owns its arrays; ctp_hash_result_release() frees them.
 */
#ifndef CTPLAN_HASH_H
#define CTPLAN_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/error.h"
#include "ctplan/flow.h"
#include "ctplan/kernel.h"
#include "ctplan/rng.h" /* the keys' generator, ctp_rng */
#include "ctplan/snapshot.h"

/* ---- primitives ---- */

typedef struct ctp_siphash_key {
	uint64_t k0, k1;
} ctp_siphash_key;

/* SipHash-2-4, 64-bit output (the kernel's siphash()). */
uint64_t ctp_siphash(const void *data, size_t len, const ctp_siphash_key *key);
/* The kernel's siphash_4u64(): SipHash-2-4 of a, b, c, d little-endian. */
uint64_t ctp_siphash_4u64(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			  const ctp_siphash_key *key);

#define CTP_JHASH_INITVAL 0xdeadbeefu
/* The kernel's jhash2() = lookup3 hashword(). */
uint32_t ctp_jhash2(const uint32_t *k, size_t words, uint32_t initval);
/* The kernel's jhash() = lookup3 hashlittle() on a little-endian host. */
uint32_t ctp_jhash(const void *key, size_t len, uint32_t initval);

/* Bucket of a 32-bit hash in a table of n: the kernel's
 * reciprocal_scale(), (u64)hash * n >> 32 (include/linux/math.h). */
static inline uint32_t ctp_hash_scale(uint32_t hash, uint32_t n)
{
	return (uint32_t)(((uint64_t)hash * n) >> 32);
}

/* ---- keys and tuples ---- */

/*
 * The 16 key bytes in memory order, as they would sit in the kernel's
 * nf_conntrack_hash_rnd on x86_64: SipHash k0 = bytes 0-7 read
 * little-endian, k1 = bytes 8-15; jhash2 kernels use the 32-bit seed in
 * bytes 0-3, little-endian.
 */
typedef struct ctp_hash_key {
	uint8_t bytes[16];
} ctp_hash_key;

/* Exactly 32 hex digits.  Returns 0, or CTP_EINPUT with err filled. */
int ctp_hash_key_parse(const char *hex, size_t len, ctp_hash_key *out,
		       ctp_error *err);
ctp_siphash_key ctp_hash_key_sip(const ctp_hash_key *key);
uint32_t ctp_hash_key_seed(const ctp_hash_key *key);

/*
 * The kernel's struct nf_conntrack_tuple, 40 bytes
 * (include/net/netfilter/nf_conntrack_tuple.h):
 *   0  src.u3     16  address, network order, IPv4 zero-padded
 *   16 src.u       2  port / ICMP id / GRE key, network order
 *   18 src.l3num   2  host order (little-endian here): 02 00, 0a 00
 *   20 dst.u3     16
 *   36 dst.u       2  port / GRE key, network order; ICMP type, code
 *   38 dst.protonum 1
 *   39 dst.dir     1  always 0 here: never hashed
 * Protocols other than tcp, udp, udplite, sctp, dccp, icmp, icmpv6 and
 * gre get src.u = dst.u = 0, as the kernel fills them.
 */
#define CTP_TUPLE_BYTES 40
void ctp_hash_tuple_bytes(uint8_t family, uint8_t proto, const ctp_tuple *t,
			  uint8_t out[CTP_TUPLE_BYTES]);

/*
 * Zone id the kernel hashes a direction with (nf_ct_zone_id(), 6.1):
 * zone=N applies to both directions, zone-orig=N / zone-reply=N to one,
 * the other direction hashes with zone 0.  dir: 0 original, 1 reply.
 */
uint16_t ctp_hash_flow_zone(const ctp_flow *f, const ctp_flow_extra *x,
			    int dir);

/*
 * The message an era hashes, into out (up to CTP_HASH_MSG_MAX bytes);
 * returns its length.  jhash eras: the 36 bytes (the seed is separate,
 * see ctp_hash_jhash_initval); siphash48: the 48-byte struct; 4u64: a,
 * b, c, d little-endian; siphash39: the first 39 tuple bytes (zone and
 * net mix go into the key, see ctp_hash_sip_key).
 */
#define CTP_HASH_MSG_MAX 48
size_t ctp_hash_message(ctp_hash_era era,
			const uint8_t tuple[CTP_TUPLE_BYTES], uint16_t zone,
			uint32_t netmix, uint8_t out[CTP_HASH_MSG_MAX]);
/* jhash eras: the initval of jhash2() for this tuple, zone, mix */
uint32_t ctp_hash_jhash_initval(ctp_hash_era era, const ctp_hash_key *key,
				const uint8_t tuple[CTP_TUPLE_BYTES],
				uint16_t zone, uint32_t netmix);
/* siphash eras: the SipHash key used (siphash39 folds zone and mix in) */
ctp_siphash_key ctp_hash_sip_key(ctp_hash_era era, const ctp_hash_key *key,
				 uint16_t zone, uint32_t netmix);

/* hash_conntrack_raw() of the era: the 32-bit hash of a tuple. */
uint32_t ctp_hash_tuple(ctp_hash_era era, const ctp_hash_key *key,
			const uint8_t tuple[CTP_TUPLE_BYTES], uint16_t zone,
			uint32_t netmix);

/* Both tuples of a flow: hash[dir], zone[dir] (dir 0 orig, 1 reply). */
void ctp_hash_flow(ctp_hash_era era, const ctp_hash_key *key,
		   uint32_t netmix, const ctp_flow *f,
		   const ctp_flow_extra *x, uint32_t hash[2],
		   uint16_t zone[2]);

/* ---- the chain model ---- */

typedef struct ctp_hash_opts {
	ctp_hash_era era;
	uint32_t buckets;      /* B, the table size (> 0) */
	unsigned keys;         /* K random keys (> 0) */
	uint64_t seed;         /* names the keys, mixes and resamples */
	uint64_t at_max;       /* fill to this many entries; 0: skip */
	ctp_chain_limit limit; /* from ctp_kernel_chain_limit() */
	unsigned threads;      /* 0: 2 */
} ctp_hash_opts;

#define CTP_HASH_OPTS_INIT                                              \
	{ CTP_ERA_SIPHASH39, 0, 8, 0, 0, { 0, 0, 0, NULL, NULL }, 0 }

/*
 * Chain figures of one table state, averaged over the K keys.  A chain's
 * length counts nodes; each entry is two nodes (original and reply
 * tuple), each in its own bucket.
 */
typedef struct ctp_hash_figures {
	double entries;        /* entries in the table (mean over keys) */
	double nodes;          /* 2 * entries */
	double load;           /* nodes per bucket */
	/* hist[l]: buckets with chain length l, mean over keys */
	double *hist;
	size_t hist_len;
	double mean_occupied;  /* mean chain length over non-empty buckets */
	/* percentiles of the chain length a lookup of a stored entry
	 * walks: the length of its node's chain, weighted by nodes */
	unsigned p99, p999;
	/* longest chain under each key: min, median, max over keys */
	unsigned longest_min, longest_max;
	double longest_median;
	double share_over8;    /* share of nodes in chains longer than 8 */
	/* probability that the next new entry is refused (chaintoolong):
	 * its original or reply chain holds max_chainlen + 2 nodes or more */
	double p_next;
	/* insert attempts made to reach this state and the share the
	 * chain limit refused (mean over keys) */
	double attempts, refused;
	int target_reached;    /* every key reached the entries asked for */
	/* entries of the fill placed in uniformly random buckets (balls
	 * into bins) once the observed tuples gave no unused one; mean
	 * over keys, 0 when the observed mix sufficed */
	double uniform;
} ctp_hash_figures;

/* Balls into bins: the same figures if every node fell into a uniformly
 * random bucket (Poisson with the load of each table). */
typedef struct ctp_hash_poisson {
	double *hist;
	size_t hist_len;
	double mean_occupied;
	unsigned p99, p999;
	unsigned longest_median; /* median of the longest chain */
	double share_over8;
	double p_next;
	/* chi-square of the sampled histogram (summed over keys) against
	 * Poisson; bins merged to expect >= 5 buckets each */
	double chi2, chi2_p;
	unsigned chi2_df;
	int mismatch;            /* chi2_p < CTP_HASH_MISMATCH_P */
} ctp_hash_poisson;

#define CTP_HASH_MISMATCH_P 1e-6

typedef struct ctp_hash_state {
	ctp_hash_figures fig;
	ctp_hash_poisson poisson;
} ctp_hash_state;

/*
 * The model's budget, whatever the settings say (issue 18): memory for
 * the bucket counters of the keys that run at once plus the fill, and
 * work (counter cells scanned and nodes inserted, over all keys).  Past
 * the work budget fewer keys run (keys < keys_asked); a state whose
 * replay would pass the memory budget (a huge nf_conntrack_max or
 * nf_conntrack_buckets, thousands of per-namespace tables) is estimated
 * analytically instead: balls into bins with the same load, table by
 * table (the Poisson figures), and the result says so (*_estimated).
 * Small tables are replayed exactly, as before.
 */
#define CTP_HASH_MEM_BUDGET (256ull << 20)
#define CTP_HASH_WORK_BUDGET (1ull << 27)
/* the work budget never cuts below the default keys (--keys) */
#define CTP_HASH_KEYS_FLOOR 8

typedef struct ctp_hash_result {
	ctp_hash_era era;
	uint32_t buckets;
	unsigned tables;     /* 1, or one per namespace (eras <= 4.6) */
	unsigned keys;
	uint64_t seed;
	unsigned namespaces; /* distinct input namespace labels */
	uint64_t entries;    /* snapshot entries placed */
	uint64_t skipped;    /* duplicates and event lines, not placed */
	uint64_t inexact;    /* icmp without type/code/id: hashed as 0 */
	ctp_hash_state now;
	int has_at_max;
	uint64_t at_max_target;
	ctp_hash_state at_max;
	/* entries the resampling can vary (ports, ICMP ids, GRE keys) */
	uint64_t resample_bases;
	uint64_t resampled;  /* fresh entries generated */
	unsigned keys_asked; /* keys asked for; keys ran (work budget) */
	/* estimated analytically (balls into bins), not replayed, because
	 * the replay would need more memory than CTP_HASH_MEM_BUDGET;
	 * need_bytes says how much */
	int now_estimated, at_max_estimated;
	uint64_t need_bytes;
} ctp_hash_result;

/*
 * Run the model on a finalized snapshot.  Flows marked CTP_F_DUP or
 * CTP_F_EVENT are skipped.  Each distinct input namespace label gets its
 * own net mix, drawn per key.  Results depend only on the snapshot and
 * opts (not on the thread count).  Returns 0, CTP_ENOMEM, or CTP_EFAIL
 * for bad options; err says which.  out is filled on success and must be
 * released with ctp_hash_result_release().
 */
int ctp_hash_model_run(const ctp_snapshot *snap, const ctp_hash_opts *opts,
		       ctp_hash_result *out, ctp_error *err);
void ctp_hash_result_release(ctp_hash_result *res);

/*
 * The "hash" report section (analyzer/hash_report.c, docs/report.md):
 * which hash, table size and chain limit apply, and the model's result
 * when it ran; render/json_hash.c writes it.
 */
typedef struct ctp_hash_section {
	const ctp_hash_era_info *info;
	char kernel[32];
	const char *kernel_source;
	int has_buckets;
	uint64_t buckets;
	const char *buckets_source;
	unsigned keys;
	uint64_t seed;
	ctp_chain_limit limit;
	int ran;             /* 0: skipped says why */
	char skipped[320];
	ctp_hash_result res; /* when ran */
	int has_max;
	uint64_t max;        /* the at-max target */
} ctp_hash_section;

void ctp_hash_section_free(void *sec);

#endif
