/*
 * SipHash-2-4 (analyzer/siphash.c) against the reference vectors of its
 * paper: Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * Appendix A, as the reference code ships them (veorq/SipHash
 * vectors.h, vectors_sip64, output bytes little-endian; the same table
 * as lib/test_siphash.c of linux 6.1).  Key 00 01 .. 0f, message i bytes
 * 00 01 .. i-1, for i = 0 .. 63.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/hash.h"

/* vectors_sip64[i] read as little-endian u64 */
static const uint64_t want[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

static const ctp_siphash_key key = { 0x0706050403020100ULL,
				     0x0f0e0d0c0b0a0908ULL };

static void test_paper_vectors(void **state)
{
	uint8_t msg[64];

	(void)state;
	for (unsigned i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (unsigned i = 0; i < 64; i++) {
		uint64_t got = ctp_siphash(msg, i, &key);

		if (got != want[i])
			fail_msg("length %u: got %016llx, want %016llx", i,
				 (unsigned long long)got,
				 (unsigned long long)want[i]);
	}
}

/* The key from its 16 bytes, the way ctplan --key reads them. */
static void test_key_bytes(void **state)
{
	ctp_hash_key hk;
	ctp_siphash_key k;
	ctp_error err = CTP_ERROR_INIT;
	const char *hex = "000102030405060708090a0b0c0d0e0f";
	uint8_t msg[15];

	(void)state;
	assert_int_equal(ctp_hash_key_parse(hex, 32, &hk, &err), 0);
	k = ctp_hash_key_sip(&hk);
	assert_true(k.k0 == key.k0);
	assert_true(k.k1 == key.k1);
	assert_int_equal(ctp_hash_key_seed(&hk), 0x03020100u);
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	assert_true(ctp_siphash(msg, 15, &k) == want[15]);
}

/*
 * siphash_4u64(a, b, c, d) is SipHash of the 32 bytes of a, b, c, d
 * little-endian: with the message bytes 00 .. 1f it is vector 32.
 */
static void test_4u64(void **state)
{
	uint8_t msg[32];
	ctp_rng rng;

	(void)state;
	assert_true(ctp_siphash_4u64(0x0706050403020100ULL,
				     0x0f0e0d0c0b0a0908ULL,
				     0x1716151413121110ULL,
				     0x1f1e1d1c1b1a1918ULL, &key) == want[32]);
	ctp_rng_init(&rng, 42, 7);
	for (int n = 0; n < 1000; n++) {
		uint64_t w[4];
		ctp_siphash_key k = { ctp_rng_next(&rng), ctp_rng_next(&rng) };

		for (int i = 0; i < 4; i++) {
			w[i] = ctp_rng_next(&rng);
			for (int j = 0; j < 8; j++)
				msg[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
		}
		assert_true(ctp_siphash_4u64(w[0], w[1], w[2], w[3], &k) ==
			    ctp_siphash(msg, 32, &k));
	}
}

static const struct {
	const char *hex;
	size_t col;
	const char *msg;
} bad_keys[] = {
	{ "000102030405060708090a0b0c0d0e", 0,
	  "cannot parse key '000102030405060708090a0b0c0d0e': expected 32 "
	  "hex digits, got 30" },
	{ "000102030405060708090a0b0c0d0e0f00", 0,
	  "cannot parse key '000102030405060708090a0b0c0d0e0f00': expected "
	  "32 hex digits, got 34" },
	{ "0001020304050607080g0a0b0c0d0e0f", 20,
	  "cannot parse key '0001020304050607080g0a0b0c0d0e0f': not a hex "
	  "digit" },
	{ "x00102030405060708090a0b0c0d0e0f", 1,
	  "cannot parse key 'x00102030405060708090a0b0c0d0e0f': not a hex "
	  "digit" },
	{ "", 0, "cannot parse key '': expected 32 hex digits, got 0" },
};

static void test_key_parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		ctp_error err = CTP_ERROR_INIT;
		ctp_hash_key k;

		assert_int_equal(ctp_hash_key_parse(bad_keys[i].hex,
						    strlen(bad_keys[i].hex),
						    &k, &err),
				 CTP_EINPUT);
		assert_string_equal(err.msg, bad_keys[i].msg);
		assert_int_equal(err.col, bad_keys[i].col);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paper_vectors),
		cmocka_unit_test(test_key_bytes),
		cmocka_unit_test(test_4u64),
		cmocka_unit_test(test_key_parse_bad),
	};

	return cmocka_run_group_tests_name("siphash", tests, NULL, NULL);
}
