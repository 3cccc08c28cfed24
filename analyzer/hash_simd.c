/*
 * SipHash-2-4 in the 64-bit lanes of AVX-512 and AVX2 vectors, for the
 * chain model's two hot hashes (hash_simd.h): hash_conntrack_raw() of the
 * SipHash eras under up to eight keys, and the tuple fingerprints of the
 * resampling.  Apart from the model because it is one technique, written
 * once as macros and compiled for each instruction set and lane layout
 * with target attributes (no -mavx flags: the rest of the program stays
 * baseline x86-64), and because its one contract is to equal, lane for
 * lane, the scalar functions of hash_tuple.h and hash_impl.h.
 *
 * The SipHash eras under several keys at once, one 64-bit lane a (tuple,
 * key) pair: a tuple's message is the same under every key (only the
 * key, and the namespace mix, differ), so the keys of a pass share the
 * message words, and two or four tuples go through side by side so
 * their rounds overlap.  Each lane computes exactly what hash_sip39(),
 * hash_sip48() and hash_4u64() compute.  GCC vector extensions, built
 * for AVX-512 and for AVX2 and picked at run time; other machines and
 * the jhash eras hash key by key.
 */
#include <stdint.h>
#include <string.h>

#include "hash_impl.h"
#include "hash_simd.h"
#include "hash_tuple.h"
#include "siphash_impl.h"

#ifdef HASH_X8
typedef uint64_t v8u __attribute__((vector_size(64)));

#define V_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define V_ROUND(v0, v1, v2, v3)          \
	do {                             \
		v0 += v1;                \
		v1 = V_ROTL(v1, 13);     \
		v1 ^= v0;                \
		v0 = V_ROTL(v0, 32);     \
		v2 += v3;                \
		v3 = V_ROTL(v3, 16);     \
		v3 ^= v2;                \
		v0 += v3;                \
		v3 = V_ROTL(v3, 21);     \
		v3 ^= v0;                \
		v2 += v1;                \
		v1 = V_ROTL(v1, 17);     \
		v1 ^= v2;                \
		v2 = V_ROTL(v2, 32);     \
	} while (0)

/* word w[i] into vector i of NV, SipHash-2-4 */
#define V_WORDS(NV, w)                                           \
	do {                                                     \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
			v3[i] ^= (w)[i];                         \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
			V_ROUND(v0[i], v1[i], v2[i], v3[i]);     \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
			V_ROUND(v0[i], v1[i], v2[i], v3[i]);     \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
			v0[i] ^= (w)[i];                         \
	} while (0)

/* a value per tuple, spread over its lanes: tuples a, b of vector i */
#define V_SPREAD(LPT, x, y)                                              \
	((LPT) == 8 ? (v8u){ (x), (x), (x), (x), (x), (x), (x), (x) }      \
		    : (v8u){ (x), (x), (x), (x), (y), (y), (y), (y) })

/*
 * NV vectors of 8 lanes, LPT lanes a tuple: tuples tp[0 .. NV * 8 /
 * LPT).  Message words of tuple t per era as in hash_sip39(),
 * hash_sip48(), words_4u64().
 */
#define DEFINE_HASH_XN(name, isa, NV, LPT)                                  \
	__attribute__((target(isa))) static void name(                      \
		ctp_hash_era era, const hrec *const *tp, const lanekeys *lk, \
		uint32_t *h)                                                \
	{                                                                   \
		v8u v0[NV], v1[NV], v2[NV], v3[NV], w[NV];                  \
		v8u k0, k1;                                                 \
		const hrec *a[NV], *b[NV];                                  \
                                                                            \
		memcpy(&k0, lk->k0, sizeof(k0));                            \
		memcpy(&k1, lk->k1, sizeof(k1));                            \
		for (int i = 0; i < NV; i++) {                              \
			v8u mx, z, c0 = k0, c1 = k1;                        \
			const uint64_t *ma, *mb;                            \
                                                                            \
			a[i] = tp[(LPT) == 8 ? i : 2 * i];                  \
			b[i] = tp[(LPT) == 8 ? i : 2 * i + 1];              \
			ma = lk->mix + 8 * (size_t)a[i]->ns;                \
			mb = lk->mix + 8 * (size_t)b[i]->ns;                \
			if ((LPT) == 8)                                     \
				memcpy(&mx, ma, sizeof(mx));                \
			else                                                \
				mx = (v8u){ ma[0], ma[1], ma[2], ma[3],     \
					    mb[0], mb[1], mb[2], mb[3] };   \
			z = V_SPREAD(LPT, (uint64_t)a[i]->zone,             \
				     (uint64_t)b[i]->zone);                 \
			if (era == CTP_ERA_SIPHASH39) {                     \
				c0 ^= z;                                    \
				c1 ^= mx;                                   \
				w[i] = mx; /* unused */                     \
			} else if (era == CTP_ERA_SIPHASH48) {              \
				/* word 5: mix | dport << 32 | proto << 48 */ \
				w[i] = mx | V_SPREAD(                       \
					LPT,                                \
					(uint64_t)ctp_le16(a[i]->t + 36)    \
							<< 32 |             \
						(uint64_t)a[i]->t[38] << 48, \
					(uint64_t)ctp_le16(b[i]->t + 36)    \
							<< 32 |             \
						(uint64_t)b[i]->t[38] << 48); \
			} else {                                            \
				uint64_t wa[4], wb[4];                      \
                                                                            \
				/* word 3: (zone << 32 | mix) + ..., with   \
				 * mix 0 here */                            \
				words_4u64(a[i]->t, a[i]->zone, 0, wa);     \
				words_4u64(b[i]->t, b[i]->zone, 0, wb);     \
				w[i] = mx + V_SPREAD(LPT, wa[3], wb[3]);    \
			}                                                   \
			v0[i] = c0 ^ 0x736f6d6570736575ULL;                 \
			v1[i] = c1 ^ 0x646f72616e646f6dULL;                 \
			v2[i] = c0 ^ 0x6c7967656e657261ULL;                 \
			v3[i] = c1 ^ 0x7465646279746573ULL;                 \
		}                                                           \
		if (era == CTP_ERA_SIPHASH_4U64) {                          \
			v8u m[NV], d[NV];                                   \
                                                                            \
			for (int j = 0; j < 3; j++) {                       \
				for (int i = 0; i < NV; i++) {              \
					uint64_t wa[4], wb[4];              \
                                                                            \
					words_4u64(a[i]->t, 0, 0, wa);      \
					words_4u64(b[i]->t, 0, 0, wb);      \
					m[i] = V_SPREAD(LPT, wa[j], wb[j]); \
				}                                           \
				V_WORDS(NV, m);                             \
			}                                                   \
			for (int i = 0; i < NV; i++)                        \
				d[i] = w[i];                                \
			V_WORDS(NV, d);                                     \
			for (int i = 0; i < NV; i++)                        \
				d[i] = V_SPREAD(LPT, (uint64_t)32 << 56,    \
						(uint64_t)32 << 56);        \
			V_WORDS(NV, d);                                     \
		} else {                                                    \
			v8u m[NV];                                          \
                                                                            \
			for (int j = 0; j < 32; j += 8) {                   \
				for (int i = 0; i < NV; i++)                \
					m[i] = V_SPREAD(                    \
						LPT, ctp_le64(a[i]->t + j), \
						ctp_le64(b[i]->t + j));     \
				V_WORDS(NV, m);                             \
			}                                                   \
			if (era == CTP_ERA_SIPHASH48) {                     \
				for (int i = 0; i < NV; i++)                \
					m[i] = V_SPREAD(                    \
						LPT,                        \
						ctp_le32(a[i]->t + 32) |    \
							(uint64_t)a[i]->zone \
								<< 32,      \
						ctp_le32(b[i]->t + 32) |    \
							(uint64_t)b[i]->zone \
								<< 32);     \
				V_WORDS(NV, m);                             \
				V_WORDS(NV, w);                             \
				for (int i = 0; i < NV; i++)                \
					m[i] = V_SPREAD(                    \
						LPT, (uint64_t)48 << 56,    \
						(uint64_t)48 << 56);        \
			} else {                                            \
				const uint64_t lo = 0x00ffffffffffffffULL;  \
                                                                            \
				for (int i = 0; i < NV; i++)                \
					m[i] = V_SPREAD(                    \
						LPT,                        \
						(ctp_le64(a[i]->t + 32) &   \
						 lo) | (uint64_t)39 << 56,  \
						(ctp_le64(b[i]->t + 32) &   \
						 lo) | (uint64_t)39 << 56); \
			}                                                   \
			V_WORDS(NV, m);                                     \
		}                                                           \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++)        \
			v2[i] ^= 0xff;                                      \
		for (int r = 0; r < 4; r++)                                 \
			_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
				V_ROUND(v0[i], v1[i], v2[i], v3[i]);        \
		for (int i = 0; i < NV; i++) {                              \
			v8u x = v0[i] ^ v1[i] ^ v2[i] ^ v3[i];              \
                                                                            \
			for (int l = 0; l < 8; l++)                         \
				h[8 * i + l] = (uint32_t)x[l];              \
		}                                                           \
	}

DEFINE_HASH_XN(hx_512_1_4, "avx512f", 1, 4)
DEFINE_HASH_XN(hx_512_2_4, "avx512f", 2, 4)
DEFINE_HASH_XN(hx_512_2_8, "avx512f", 2, 8)
DEFINE_HASH_XN(hx_512_4_8, "avx512f", 4, 8)
DEFINE_HASH_XN(hx_256_1_4, "avx2", 1, 4)
DEFINE_HASH_XN(hx_256_2_4, "avx2", 2, 4)
DEFINE_HASH_XN(hx_256_2_8, "avx2", 2, 8)
DEFINE_HASH_XN(hx_256_4_8, "avx2", 4, 8)

#define DEFINE_HASH_X8(name, p)                                            \
	static void name(ctp_hash_era era, const hrec *const *tp, unsigned nt, \
			 const lanekeys *lk, uint32_t *h)                      \
	{                                                                      \
		/* nt * lpt lanes in nt * lpt / 8 vectors */                   \
		if (lk->lpt == 4) {                                            \
			if (nt == 2)                                           \
				hx_##p##_1_4(era, tp, lk, h);                  \
			else                                                   \
				hx_##p##_2_4(era, tp, lk, h);                  \
		} else {                                                       \
			if (nt == 2)                                           \
				hx_##p##_2_8(era, tp, lk, h);                  \
			else                                                   \
				hx_##p##_4_8(era, tp, lk, h);                  \
		}                                                              \
	}

DEFINE_HASH_X8(hash_x8_avx512, 512)
DEFINE_HASH_X8(hash_x8_avx2, 256)

/* The vector hash for era on this CPU, or NULL: key by key. */
hash_x8_fn ctp_hash_x8_pick(ctp_hash_era era)
{
	if (era != CTP_ERA_SIPHASH39 && era != CTP_ERA_SIPHASH48 &&
	    era != CTP_ERA_SIPHASH_4U64)
		return NULL;
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return hash_x8_avx512;
	if (__builtin_cpu_supports("avx2"))
		return hash_x8_avx2;
	return NULL;
}

/* Fingerprints of 16 tuples at once, two vectors side by side: lane l
 * computes fingerprint(r[l]), SipHash-2-4 of the 44 bytes. */
#define DEFINE_FP_X16(name, isa)                                            \
	__attribute__((target(isa))) static void name(const hrec *const *r, \
						     uint64_t *out)          \
	{                                                                   \
		/* m is set lane by lane below; zeroed first because   \
		 * gcc -O3 cannot see that every lane is written */     \
		v8u v0[2], v1[2], v2[2], v3[2], m[2] = { { 0 }, { 0 } };    \
                                                                            \
		for (int i = 0; i < 2; i++) {                               \
			v0[i] = (v8u){ 0 } + (FP_K0 ^ 0x736f6d6570736575ULL); \
			v1[i] = (v8u){ 0 } + (FP_K1 ^ 0x646f72616e646f6dULL); \
			v2[i] = (v8u){ 0 } + (FP_K0 ^ 0x6c7967656e657261ULL); \
			v3[i] = (v8u){ 0 } + (FP_K1 ^ 0x7465646279746573ULL); \
		}                                                           \
		for (int w = 0; w <= 5; w++) {                              \
			for (int i = 0; i < 2; i++)                         \
				for (int l = 0; l < 8; l++) {               \
					const hrec *x = r[8 * i + l];       \
                                                                            \
					m[i][l] = w < 5 ? ctp_le64(x->t +   \
								   8 * w)   \
							: fp_last(x);       \
				}                                           \
			V_WORDS(2, m);                                      \
		}                                                           \
		for (int i = 0; i < 2; i++)                                 \
			v2[i] ^= 0xff;                                      \
		for (int k = 0; k < 4; k++)                                 \
			for (int i = 0; i < 2; i++)                         \
				V_ROUND(v0[i], v1[i], v2[i], v3[i]);        \
		for (int i = 0; i < 2; i++) {                               \
			v8u x = v0[i] ^ v1[i] ^ v2[i] ^ v3[i];              \
                                                                            \
			for (int l = 0; l < 8; l++)                         \
				out[8 * i + l] = x[l];                      \
		}                                                           \
	}

DEFINE_FP_X16(fp_x16_avx512, "avx512f")
DEFINE_FP_X16(fp_x16_avx2, "avx2")
#endif

fp16_fn ctp_hash_fp16_pick(void)
{
#ifdef HASH_X8
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return fp_x16_avx512;
	if (__builtin_cpu_supports("avx2"))
		return fp_x16_avx2;
#endif
	return NULL;
}
