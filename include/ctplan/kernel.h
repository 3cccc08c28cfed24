/*
 * ctplan kernel facts: every version-dependent fact about the kernel's
 * conntrack that a model needs, in one place, each with the versions it
 * holds for and the source it was read from (see analyzer/kernel.c and
 * docs/hash-model.md).  Other modules ask here ("which hash does 5.15
 * use?") and never hard-code a version or a constant.
 *
 * Versions are upstream versions.  Distribution kernels may carry
 * backports (a vendor "5.14" with the 5.15 hash, say); the caller can
 * always name the version whose behaviour it wants.
 *
 * All returned pointers are to static tables; nothing needs freeing.
 */
#ifndef CTPLAN_KERNEL_H
#define CTPLAN_KERNEL_H

#include <stddef.h>

#include "ctplan/error.h"
#include "ctplan/snapshot.h"

/* A kernel version; patch is -1 when not given ("6.1"), read as 0. */
typedef struct ctp_kver {
	int major, minor, patch;
} ctp_kver;

/*
 * Parse "6.1", "5.15.103", "6.1.0-18-amd64", "v6.8-rc3": MAJOR.MINOR
 * and an optional .PATCH, then anything not a digit or dot ends the
 * version.  Returns 0, or CTP_EINPUT with err filled (col = offset).
 */
int ctp_kver_parse(const char *s, size_t len, ctp_kver *out, ctp_error *err);
/* <0, 0, >0 as a is older, equal, newer than b (patch -1 counts as 0) */
int ctp_kver_cmp(const ctp_kver *a, const ctp_kver *b);
/* The snapshot's uname version, if it was parsed: 1 and *out, else 0. */
int ctp_kver_from_info(const ctp_kernel_info *k, ctp_kver *out);
/* The newest version these tables describe (the default). */
ctp_kver ctp_kernel_newest(void);
/* "6.1" or "5.15.103" into buf */
void ctp_kver_format(const ctp_kver *v, char *buf, size_t size);

/*
 * How hash_conntrack_raw() (net/netfilter/nf_conntrack_core.c) turns a
 * tuple into 32 bits, era by era.
 */
typedef enum ctp_hash_era {
	/* <= 4.2: jhash2 over 36 bytes, zone, dport and proto in the seed;
	 * one table per namespace */
	CTP_ERA_JHASH_ZONE = 0,
	/* 4.3 - 4.6: the same without the zone; one table per namespace */
	CTP_ERA_JHASH,
	/* 4.7 - 5.14: seed also ^ net_hash_mix; one global table */
	CTP_ERA_JHASH_NETMIX,
	/* 5.15 - 6.1.y: siphash over a 48-byte struct with zone, net mix */
	CTP_ERA_SIPHASH48,
	/* 6.2 - 6.4.4: siphash_4u64 over four words built from the tuple */
	CTP_ERA_SIPHASH_4U64,
	/* 6.4.5+, 6.5+: siphash over the tuple's first 39 bytes, zone and
	 * net mix folded into the key */
	CTP_ERA_SIPHASH39,
	CTP_ERA_COUNT
} ctp_hash_era;

typedef struct ctp_hash_era_info {
	ctp_hash_era era;
	const char *name;      /* stable id: "siphash48", "jhash2-netmix" */
	const char *algorithm; /* "jhash2", "siphash-2-4" */
	const char *versions;  /* "5.15 - 6.1.y" */
	const char *source;    /* where it was read */
	unsigned hashed_bytes; /* message length: 36, 48, 32 or 39 */
	int zone_hashed;       /* the zone id changes the hash */
	int netmix_hashed;     /* net_hash_mix changes the hash */
	int shared_table;      /* one table for all namespaces */
} ctp_hash_era_info;

ctp_hash_era ctp_kernel_hash_era(const ctp_kver *v);
/* NULL if era is out of range */
const ctp_hash_era_info *ctp_kernel_hash_era_info(ctp_hash_era era);

/*
 * The insert-time chain limit of __nf_conntrack_confirm() and
 * nf_conntrack_hash_check_insert(): per insert attempt the kernel draws
 * max_chainlen = min + random[0, span) (span 0: always min), walks the
 * original tuple's chain and then the reply tuple's chain, and refuses
 * the entry (chaintoolong, insert_failed) when either chain already
 * holds max_chainlen + CTP_CHAIN_SLACK nodes or more: the test is
 * "chainlen++ > max_chainlen" on every node walked.
 */
#define CTP_CHAIN_SLACK 2

typedef struct ctp_chain_limit {
	int enabled;        /* 0: no limit in this version */
	unsigned min, span; /* max_chainlen = min + random[0, span) */
	const char *versions;
	const char *source;
} ctp_chain_limit;

void ctp_kernel_chain_limit(const ctp_kver *v, ctp_chain_limit *out);

#endif
