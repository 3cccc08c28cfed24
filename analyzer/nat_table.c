/*
 * The NAT model's lookup tables (analyzer/nat_impl.h): the group of a
 * key, and the set of the groups' NAT addresses.  Both are open
 * addressing with linear probing in a power-of-two table kept at most
 * half full; only the speed of the passes depends on them, never a
 * result (a group's index is the order it was first seen in).
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "nat_impl.h"

/* A 64-bit mix of the five words of a key (only the spread of the
 * table depends on it, never a result). */
static uint32_t key_hash(const gkey *k)
{
	uint64_t w[5], h = 0x6e6174u;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static int grow_slots(model *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 1024;
	uint64_t *s = calloc(n, sizeof(*s));

	if (!s)
		return CTP_ENOMEM;
	for (size_t i = 0; i < m->nslots; i++) {
		size_t h;

		if (!m->slot[i])
			continue;
		h = (uint32_t)(m->slot[i] >> 32) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = m->slot[i];
	}
	free(m->slot);
	m->slot = s;
	m->nslots = n;
	return 0;
}

/* Index of the group with key k, or -1; with create, made if missing
 * (-2 on out of memory). */
long ctp_nat_group_find(model *m, const gkey *k, int create)
{
	uint32_t hash;
	size_t h;

	if (create && (m->ng + 1) * 2 > m->nslots && grow_slots(m))
		return -2;
	if (!m->nslots)
		return -1;
	hash = key_hash(k);
	h = hash & (m->nslots - 1);
	while (m->slot[h]) {
		uint64_t s = m->slot[h];
		size_t i = (size_t)(uint32_t)s - 1;

		if ((uint32_t)(s >> 32) == hash &&
		    memcmp(&m->keys[i], k, sizeof(*k)) == 0)
			return (long)i;
		h = (h + 1) & (m->nslots - 1);
	}
	if (!create)
		return -1;
	if (m->ng == m->gcap) {
		size_t n = m->gcap ? m->gcap * 2 : 256;
		grp *g = realloc(m->g, n * sizeof(*g));
		gkey *keys;

		if (!g)
			return -2;
		m->g = g;
		keys = realloc(m->keys, n * sizeof(*keys));
		if (!keys)
			return -2;
		m->keys = keys;
		m->gcap = n;
	}
	memset(&m->g[m->ng], 0, sizeof(m->g[m->ng]));
	m->g[m->ng].key = *k;
	m->keys[m->ng] = *k;
	m->slot[h] = (uint64_t)hash << 32 | (uint32_t)(m->ng + 1);
	return (long)m->ng++;
}

/*
 * The NAT addresses of the groups: a reply tuple whose destination is
 * none of them can lie in no group, which settles most lookups of pass
 * 2 without making a key.
 */
static uint32_t addr_hash(const uint8_t a[16])
{
	uint64_t w[2], h;

	memcpy(w, a, sizeof(w));
	h = (w[0] ^ 0x6e6174u) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 29) ^ w[1]) * 0xff51afd7ed558ccdULL;
	return (uint32_t)(h ^ (h >> 32));
}

int ctp_nat_addr_known(const model *m, const uint8_t a[16])
{
	size_t h;

	if (!m->naslots)
		return 0;
	for (h = addr_hash(a) & (m->naslots - 1); m->aslot[h];
	     h = (h + 1) & (m->naslots - 1))
		if (memcmp(m->addr[m->aslot[h] - 1], a, 16) == 0)
			return 1;
	return 0;
}

int ctp_nat_addr_add(model *m, const uint8_t a[16])
{
	size_t h;

	if (ctp_nat_addr_known(m, a))
		return 0;
	if (ctp_grow((void **)&m->addr, &m->acap, m->naddr + 1,
		     sizeof(*m->addr)))
		return CTP_ENOMEM;
	memcpy(m->addr[m->naddr++], a, 16);
	if (2 * m->naddr > m->naslots) {
		size_t n = m->naslots ? 2 * m->naslots : 64;
		uint32_t *s = calloc(n, sizeof(*s));

		if (!s)
			return CTP_ENOMEM;
		free(m->aslot);
		m->aslot = s;
		m->naslots = n;
		for (size_t i = 0; i + 1 < m->naddr; i++) {
			for (h = addr_hash(m->addr[i]) & (n - 1); s[h];
			     h = (h + 1) & (n - 1))
				;
			s[h] = (uint32_t)i + 1;
		}
	}
	for (h = addr_hash(a) & (m->naslots - 1); m->aslot[h];
	     h = (h + 1) & (m->naslots - 1))
		;
	m->aslot[h] = (uint32_t)m->naddr;
	return 0;
}
