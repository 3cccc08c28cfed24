/*
 * Tuple serialization and per-era hashing (analyzer/hash_tuple.c): the bytes
 * of struct nf_conntrack_tuple built by hand for each protocol kind, the
 * message each era hashes, and the worked examples of
 * shared/reference/kernel-facts.md section 8 (computed there with the
 * kernel's own lib/siphash.c and include/linux/jhash.h, 6.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/hash.h"

#define V4(a, b, c, d) { a, b, c, d }
#define V6(...) { __VA_ARGS__ }

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	fail_msg("'%c' is not a lowercase hex digit", c);
	return 0;
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(nibble(hex[2 * i]) << 4 |
				   nibble(hex[2 * i + 1]));
}

static void assert_bytes(const uint8_t *got, const char *want_hex, size_t n,
			 const char *what)
{
	uint8_t want[64];

	unhex(want_hex, want, n);
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("%s: byte %zu is %02x, want %02x", what, i,
				 got[i], want[i]);
}

/*
 * Tuples as ctplan holds them (ports, ids, keys in host order; ICMP
 * type in the high byte of dport, code in the low) and the 40 bytes the
 * kernel holds, written out field by field:
 * src.u3 (16) | src.u (2) | l3num (2, LE) | dst.u3 (16) | dst.u (2) |
 * protonum | dir (0).
 */
static const struct {
	const char *name;
	uint8_t family, proto;
	ctp_tuple t;
	const char *bytes;
} tuples[] = {
	{ "ipv4 tcp 198.18.0.2:29999 -> 198.19.0.2:80", 2, 6,
	  { V4(198, 18, 0, 2), V4(198, 19, 0, 2), 29999, 80 },
	  "c6120002" "000000000000000000000000" "752f" "0200"
	  "c6130002" "000000000000000000000000" "0050" "06" "00" },
	{ "ipv4 udp 10.1.2.3:53 -> 10.9.8.7:40000", 2, 17,
	  { V4(10, 1, 2, 3), V4(10, 9, 8, 7), 53, 40000 },
	  "0a010203" "000000000000000000000000" "0035" "0200"
	  "0a090807" "000000000000000000000000" "9c40" "11" "00" },
	{ "ipv6 udp [2001:db8:1:2:3:4:5:6]:5353 -> [ff02::fb]:5353", 10, 17,
	  { V6(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6),
	    V6(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb),
	    5353, 5353 },
	  "20010db8000100020003000400050006" "14e9" "0a00"
	  "ff0200000000000000000000000000fb" "14e9" "11" "00" },
	{ "ipv6 tcp [2001:db8::1]:443 -> [2001:db8::2]:51000", 10, 6,
	  { V6(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
	    V6(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2),
	    443, 51000 },
	  "20010db8000000000000000000000001" "01bb" "0a00"
	  "20010db8000000000000000000000002" "c738" "06" "00" },
	/* icmp echo: id in src.u, type at byte 36, code at 37 */
	{ "ipv4 icmp echo type 8 code 0 id 0x1234", 2, 1,
	  { V4(10, 0, 0, 1), V4(10, 0, 0, 2), 0x1234, CTP_ICMP_DPORT(8, 0) },
	  "0a000001" "000000000000000000000000" "1234" "0200"
	  "0a000002" "000000000000000000000000" "0800" "01" "00" },
	{ "ipv4 icmp reply type 0 code 0 id 0x1234", 2, 1,
	  { V4(10, 0, 0, 2), V4(10, 0, 0, 1), 0x1234, CTP_ICMP_DPORT(0, 0) },
	  "0a000002" "000000000000000000000000" "1234" "0200"
	  "0a000001" "000000000000000000000000" "0000" "01" "00" },
	{ "ipv4 icmp type 3 code 4 id 0", 2, 1,
	  { V4(10, 0, 0, 1), V4(10, 0, 0, 2), 0, CTP_ICMP_DPORT(3, 4) },
	  "0a000001" "000000000000000000000000" "0000" "0200"
	  "0a000002" "000000000000000000000000" "0304" "01" "00" },
	{ "ipv6 icmpv6 echo type 128 code 0 id 7", 10, 58,
	  { V6(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
	    V6(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2), 7,
	    CTP_ICMP_DPORT(128, 0) },
	  "fe800000000000000000000000000001" "0007" "0a00"
	  "fe800000000000000000000000000002" "8000" "3a" "00" },
	/* gre (pptp): keys in src.u and dst.u, network order */
	{ "ipv4 gre srckey 0x1a2b dstkey 0x3c4d", 2, 47,
	  { V4(192, 0, 2, 1), V4(192, 0, 2, 2), 0x1a2b, 0x3c4d },
	  "c0000201" "000000000000000000000000" "1a2b" "0200"
	  "c0000202" "000000000000000000000000" "3c4d" "2f" "00" },
	/* esp: the kernel fills no src.u / dst.u for it */
	{ "ipv4 esp, stray ports ignored", 2, 50,
	  { V4(192, 0, 2, 1), V4(192, 0, 2, 2), 1111, 2222 },
	  "c0000201" "000000000000000000000000" "0000" "0200"
	  "c0000202" "000000000000000000000000" "0000" "32" "00" },
	{ "ipv4 sctp 10.0.0.1:36412 -> 10.0.0.2:38412", 2, 132,
	  { V4(10, 0, 0, 1), V4(10, 0, 0, 2), 36412, 38412 },
	  "0a000001" "000000000000000000000000" "8e3c" "0200"
	  "0a000002" "000000000000000000000000" "960c" "84" "00" },
};

static void test_tuple_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tuples) / sizeof(tuples[0]); i++) {
		uint8_t b[CTP_TUPLE_BYTES];

		ctp_hash_tuple_bytes(tuples[i].family, tuples[i].proto,
				     &tuples[i].t, b);
		assert_bytes(b, tuples[i].bytes, CTP_TUPLE_BYTES,
			     tuples[i].name);
	}
}

/*
 * The message of each era for some of the tuples above, zone 5 and net
 * mix 0xa1b2c3d4:
 * - jhash2 eras: tuple bytes 0..35 (zone, mix, dport, proto go to the
 *   seed);
 * - siphash48: bytes 0..35, zone u32 LE, net_mix u32 LE, dst.u as is,
 *   proto as a u16 LE;
 * - siphash-4u64: a, b, c, d little-endian, from the u32 words of the
 *   addresses (all[0] << 32 | all[3], ...);
 * - siphash39: bytes 0..38.
 */
static const struct {
	size_t tuple;
	ctp_hash_era era;
	size_t len;
	const char *msg;
} messages[] = {
	{ 0, CTP_ERA_JHASH_NETMIX, 36,
	  "c6120002000000000000000000000000752f0200"
	  "c6130002000000000000000000000000" },
	{ 0, CTP_ERA_SIPHASH48, 48,
	  "c6120002000000000000000000000000752f0200"
	  "c6130002000000000000000000000000"
	  "05000000" "d4c3b2a1" "0050" "0600" },
	{ 0, CTP_ERA_SIPHASH_4U64, 32,
	  "00000000c6120002" "00000000c6130002" "06000050752f0000"
	  "d4c3b2a105000000" },
	{ 0, CTP_ERA_SIPHASH39, 39,
	  "c6120002000000000000000000000000752f0200"
	  "c6130002000000000000000000000000005006" },
	{ 2, CTP_ERA_SIPHASH48, 48,
	  "20010db800010002000300040005000614e90a00"
	  "ff0200000000000000000000000000fb"
	  "05000000" "d4c3b2a1" "14e9" "1100" },
	/* c ^= all[1] << 32 | all[2], d += dst all[1] << 32 | all[2] */
	{ 2, CTP_ERA_SIPHASH_4U64, 32,
	  "0005000620010db8" "000000fbff020000" "110314ed14e80002"
	  "d4c3b2a105000000" },
	{ 4, CTP_ERA_SIPHASH48, 48,
	  "0a000001000000000000000000000000" "1234" "0200"
	  "0a000002000000000000000000000000"
	  "05000000" "d4c3b2a1" "0800" "0100" },
	{ 4, CTP_ERA_SIPHASH39, 39,
	  "0a000001000000000000000000000000" "1234" "0200"
	  "0a000002000000000000000000000000" "0800" "01" },
	{ 8, CTP_ERA_SIPHASH_4U64, 32,
	  "00000000c0000201" "00000000c0000202" "2f003c4d1a2b0000"
	  "d4c3b2a105000000" },
	{ 8, CTP_ERA_JHASH, 36,
	  "c0000201000000000000000000000000" "1a2b" "0200"
	  "c0000202000000000000000000000000" },
};

static void test_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		uint8_t b[CTP_TUPLE_BYTES], msg[CTP_HASH_MSG_MAX];
		char what[96];
		size_t t = messages[i].tuple, len;

		ctp_hash_tuple_bytes(tuples[t].family, tuples[t].proto,
				     &tuples[t].t, b);
		len = ctp_hash_message(messages[i].era, b, 5, 0xa1b2c3d4, msg);
		assert_int_equal(len, messages[i].len);
		snprintf(what, sizeof(what), "%s, era %d", tuples[t].name,
			 (int)messages[i].era);
		assert_bytes(msg, messages[i].msg, len, what);
	}
}

/* jhash2 seeds: rnd ^ (mix) ^ (zone) ^ (dst.u as a LE u16 << 16 | proto) */
static void test_jhash_initval(void **state)
{
	ctp_hash_key k;
	uint8_t b[CTP_TUPLE_BYTES];

	(void)state;
	memset(&k, 0, sizeof(k));
	k.bytes[0] = 0x00;
	k.bytes[1] = 0x01;
	k.bytes[2] = 0x02;
	k.bytes[3] = 0x03;
	ctp_hash_tuple_bytes(2, 6, &tuples[0].t, b);
	/* dport 80 = 00 50 -> 0x5000 */
	assert_int_equal(ctp_hash_jhash_initval(CTP_ERA_JHASH_NETMIX, &k, b, 5,
						0xa1b2c3d4),
			 0x03020100u ^ 0xa1b2c3d4u ^ 0x50000006u);
	assert_int_equal(ctp_hash_jhash_initval(CTP_ERA_JHASH, &k, b, 5,
						0xa1b2c3d4),
			 0x03020100u ^ 0x50000006u);
	assert_int_equal(ctp_hash_jhash_initval(CTP_ERA_JHASH_ZONE, &k, b, 5,
						0xa1b2c3d4),
			 5u ^ 0x03020100u ^ 0x50000006u);
	/* icmp type 8 code 0 at bytes 36, 37 -> 0x0008 */
	ctp_hash_tuple_bytes(2, 1, &tuples[4].t, b);
	assert_int_equal(ctp_hash_jhash_initval(CTP_ERA_JHASH, &k, b, 0, 0),
			 0x03020100u ^ 0x00080001u);
}

/* siphash39 folds zone into k0 and the mix into k1; other eras don't */
static void test_sip_key(void **state)
{
	ctp_hash_key k;
	ctp_siphash_key s;

	(void)state;
	for (int i = 0; i < 16; i++)
		k.bytes[i] = (uint8_t)i;
	s = ctp_hash_sip_key(CTP_ERA_SIPHASH39, &k, 7, 0xa1b2c3d4);
	assert_true(s.k0 == (0x0706050403020100ULL ^ 7));
	assert_true(s.k1 == (0x0f0e0d0c0b0a0908ULL ^ 0xa1b2c3d4));
	s = ctp_hash_sip_key(CTP_ERA_SIPHASH48, &k, 7, 0xa1b2c3d4);
	assert_true(s.k0 == 0x0706050403020100ULL);
	assert_true(s.k1 == 0x0f0e0d0c0b0a0908ULL);
}

/*
 * kernel-facts.md section 8: key bytes 00..0f, zone 0, mix 0, flow
 * tcp 198.18.0.2:29999 -> 198.19.0.2:80, reply without NAT.  jhash
 * rows use seed 0x03020100 = bytes 0-3 of the same key.
 */
static const ctp_tuple wx_orig = { V4(198, 18, 0, 2), V4(198, 19, 0, 2),
				   29999, 80 };
static const ctp_tuple wx_reply = { V4(198, 19, 0, 2), V4(198, 18, 0, 2),
				    80, 29999 };

static const struct {
	ctp_hash_era era;
	int reply;
	uint32_t hash, b16k, b64k, b256k;
} worked[] = {
	{ CTP_ERA_SIPHASH39, 0, 0x9d8046b0, 10080, 40320, 161281 },
	{ CTP_ERA_SIPHASH39, 1, 0x1c16d644, 1797, 7190, 28763 },
	{ CTP_ERA_SIPHASH48, 0, 0xcc02d116, 13056, 52226, 208907 },
	{ CTP_ERA_SIPHASH48, 1, 0xfd17a85c, 16197, 64791, 259166 },
	{ CTP_ERA_SIPHASH_4U64, 0, 0x04bad64f, 302, 1210, 4843 },
	{ CTP_ERA_SIPHASH_4U64, 1, 0xad22e0e4, 11080, 44322, 177291 },
	{ CTP_ERA_JHASH_NETMIX, 0, 0x5bdae874, 5878, 23514, 94059 },
	{ CTP_ERA_JHASH_NETMIX, 1, 0xe51d456c, 14663, 58653, 234613 },
	{ CTP_ERA_JHASH, 0, 0x5bdae874, 5878, 23514, 94059 },
	{ CTP_ERA_JHASH_ZONE, 1, 0xe51d456c, 14663, 58653, 234613 },
};

static void test_worked_examples(void **state)
{
	ctp_hash_key k;

	(void)state;
	for (int i = 0; i < 16; i++)
		k.bytes[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(worked) / sizeof(worked[0]); i++) {
		uint8_t b[CTP_TUPLE_BYTES];
		uint32_t h;

		ctp_hash_tuple_bytes(2, 6, worked[i].reply ? &wx_reply :
							     &wx_orig, b);
		h = ctp_hash_tuple(worked[i].era, &k, b, 0, 0);
		if (h != worked[i].hash)
			fail_msg("row %zu: hash %08x, want %08x", i, h,
				 worked[i].hash);
		assert_int_equal(ctp_hash_scale(h, 16384), worked[i].b16k);
		assert_int_equal(ctp_hash_scale(h, 65536), worked[i].b64k);
		assert_int_equal(ctp_hash_scale(h, 262144), worked[i].b256k);
	}
}

/* reciprocal_scale: top bits for powers of two, any size works */
static void test_scale(void **state)
{
	(void)state;
	assert_int_equal(ctp_hash_scale(0, 1000), 0);
	assert_int_equal(ctp_hash_scale(0xffffffffu, 1000), 999);
	assert_int_equal(ctp_hash_scale(0x80000000u, 1000), 500);
	assert_int_equal(ctp_hash_scale(0x9d8046b0u, 512), 0x9d8046b0u >> 23);
	assert_int_equal(ctp_hash_scale(0x12345678u, 1), 0);
}

/* nf_ct_zone_id(): zone=N both ways, zone-orig / zone-reply one way */
static void test_zone_direction(void **state)
{
	ctp_flow f;
	ctp_flow_extra x;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&x, 0, sizeof(x));
	f.zone = 7;
	assert_int_equal(ctp_hash_flow_zone(&f, NULL, 0), 7);
	assert_int_equal(ctp_hash_flow_zone(&f, NULL, 1), 7);
	assert_int_equal(ctp_hash_flow_zone(&f, &x, 1), 7);
	f.zone = 0;
	x.present = CTP_X_ZONE_ORIG;
	x.zone_orig = 3;
	assert_int_equal(ctp_hash_flow_zone(&f, &x, 0), 3);
	assert_int_equal(ctp_hash_flow_zone(&f, &x, 1), 0);
	x.present = CTP_X_ZONE_REPLY;
	x.zone_orig = 0;
	x.zone_reply = 4;
	assert_int_equal(ctp_hash_flow_zone(&f, &x, 0), 0);
	assert_int_equal(ctp_hash_flow_zone(&f, &x, 1), 4);
}

/* ctp_hash_flow: both tuples, each with its direction's zone */
static void test_flow(void **state)
{
	ctp_hash_key k;
	ctp_flow f;
	ctp_flow_extra x;
	uint32_t h[2];
	uint16_t z[2];
	uint8_t b[CTP_TUPLE_BYTES];

	(void)state;
	for (int i = 0; i < 16; i++)
		k.bytes[i] = (uint8_t)i;
	memset(&f, 0, sizeof(f));
	memset(&x, 0, sizeof(x));
	f.orig = wx_orig;
	f.reply = wx_reply;
	f.family = 2;
	f.proto = 6;
	ctp_hash_flow(CTP_ERA_SIPHASH39, &k, 0, &f, NULL, h, z);
	assert_int_equal(h[0], 0x9d8046b0);
	assert_int_equal(h[1], 0x1c16d644);
	assert_int_equal(z[0], 0);
	x.present = CTP_X_ZONE_REPLY;
	x.zone_reply = 9;
	ctp_hash_flow(CTP_ERA_SIPHASH39, &k, 0x55, &f, &x, h, z);
	assert_int_equal(z[0], 0);
	assert_int_equal(z[1], 9);
	ctp_hash_tuple_bytes(2, 6, &wx_reply, b);
	assert_int_equal(h[1], ctp_hash_tuple(CTP_ERA_SIPHASH39, &k, b, 9,
					      0x55));
	assert_int_not_equal(h[1], 0x1c16d644);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tuple_bytes),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_jhash_initval),
		cmocka_unit_test(test_sip_key),
		cmocka_unit_test(test_worked_examples),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_zone_direction),
		cmocka_unit_test(test_flow),
	};

	return cmocka_run_group_tests_name("tuple", tests, NULL, NULL);
}
