/* Unit tests for arch/x86/lib/sha256.c and hmac_sha256.c: the FIPS 180-4
 * examples (one block, two blocks, a million 'a'), a digest taken in pieces
 * of every size equals the whole, every RFC 4231 HMAC-SHA-256 vector, and
 * ct_equal finds a difference in any byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/lib/hmac_sha256.h"
#include "arch/x86/lib/sha256.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void check_sha(const void *data, size_t len, const char *want)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char got[2 * SHA256_DIGEST_SIZE + 1];

	sha256(data, len, d);
	hex(d, sizeof(d), got);
	assert_string_equal(got, want);
}

static void test_fips_180_4_examples(void **state)
{
	(void)state;
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	static const char two[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
				  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	check_sha(two, strlen(two),
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	char *million = malloc(1000000);
	assert_non_null(million);
	memset(million, 'a', 1000000);
	check_sha(million, 1000000,
		  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

/* Every split of 200 bytes into two pieces, and byte by byte. */
static void test_pieces_equal_the_whole(void **state)
{
	uint8_t data[200], whole[SHA256_DIGEST_SIZE], part[SHA256_DIGEST_SIZE];
	struct sha256 s;

	(void)state;
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	sha256(data, sizeof(data), whole);
	for (size_t cut = 0; cut <= sizeof(data); cut++) {
		sha256_init(&s);
		sha256_update(&s, data, cut);
		sha256_update(&s, data + cut, sizeof(data) - cut);
		sha256_final(&s, part);
		assert_memory_equal(part, whole, sizeof(whole));
	}
	sha256_init(&s);
	for (size_t i = 0; i < sizeof(data); i++)
		sha256_update(&s, data + i, 1);
	sha256_final(&s, part);
	assert_memory_equal(part, whole, sizeof(whole));
}

struct rfc4231_case {
	uint8_t key[131];
	size_t keylen;
	const char *data;
	size_t datalen;
	const char *mac;
	size_t maclen; /* bytes compared: case 5 is truncated to 128 bits */
};

static void fill(uint8_t *b, uint8_t v, size_t n)
{
	memset(b, v, n);
}

static void test_rfc4231_vectors(void **state)
{
	static uint8_t dd[50], cd[50];
	static struct rfc4231_case c[7];

	(void)state;
	fill(dd, 0xdd, sizeof(dd));
	fill(cd, 0xcd, sizeof(cd));
	/* 4.2 */
	fill(c[0].key, 0x0b, 20), c[0].keylen = 20, c[0].data = "Hi There", c[0].datalen = 8;
	c[0].mac = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
	/* 4.3: a key shorter than the tag */
	memcpy(c[1].key, "Jefe", 4), c[1].keylen = 4;
	c[1].data = "what do ya want for nothing?", c[1].datalen = 28;
	c[1].mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	/* 4.4: key and data of 0xaa and 0xdd */
	fill(c[2].key, 0xaa, 20), c[2].keylen = 20, c[2].data = (const char *)dd;
	c[2].datalen = 50;
	c[2].mac = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
	/* 4.5: key 0x01..0x19 */
	for (unsigned i = 0; i < 25; i++)
		c[3].key[i] = (uint8_t)(i + 1);
	c[3].keylen = 25, c[3].data = (const char *)cd, c[3].datalen = 50;
	c[3].mac = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
	/* 4.6: truncated to 128 bits */
	fill(c[4].key, 0x0c, 20), c[4].keylen = 20, c[4].data = "Test With Truncation";
	c[4].datalen = 20, c[4].mac = "a3b6167473100ee06e0c796c2955552b";
	/* 4.7, 4.8: a key larger than a block is hashed first */
	fill(c[5].key, 0xaa, 131), c[5].keylen = 131;
	c[5].data = "Test Using Larger Than Block-Size Key - Hash Key First";
	c[5].datalen = 54;
	c[5].mac = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
	fill(c[6].key, 0xaa, 131), c[6].keylen = 131;
	c[6].data = "This is a test using a larger than block-size key and a larger than "
		    "block-size data. The key needs to be hashed before being used by the HMAC "
		    "algorithm.";
	c[6].datalen = 152;
	c[6].mac = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";

	for (unsigned i = 0; i < 7; i++) {
		uint8_t tag[HMAC_SHA256_SIZE];
		char got[2 * HMAC_SHA256_SIZE + 1];

		hmac_sha256(c[i].key, c[i].keylen, c[i].data, c[i].datalen, tag);
		hex(tag, sizeof(tag), got);
		got[strlen(c[i].mac)] = '\0';
		assert_string_equal(got, c[i].mac);

		/* The same through a prepared key, in two pieces. */
		struct hmac_sha256_key k;
		struct hmac_sha256 h;
		uint8_t tag2[HMAC_SHA256_SIZE];
		hmac_sha256_key(&k, c[i].key, c[i].keylen);
		hmac_sha256_init(&h, &k);
		hmac_sha256_update(&h, c[i].data, c[i].datalen / 2);
		hmac_sha256_update(&h, c[i].data + c[i].datalen / 2,
				   c[i].datalen - c[i].datalen / 2);
		hmac_sha256_final(&h, tag2);
		assert_memory_equal(tag2, tag, sizeof(tag));
	}
}

static void test_ct_equal_finds_any_difference(void **state)
{
	uint8_t a[HMAC_SHA256_SIZE], b[HMAC_SHA256_SIZE];

	(void)state;
	for (unsigned i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 13);
	memcpy(b, a, sizeof(a));
	assert_true(ct_equal(a, b, sizeof(a)));
	for (unsigned i = 0; i < sizeof(a); i++)
		for (unsigned bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_false(ct_equal(a, b, sizeof(a)));
			b[i] ^= (uint8_t)(1u << bit);
		}
	assert_true(ct_equal(a, b, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_180_4_examples),
		cmocka_unit_test(test_pieces_equal_the_whole),
		cmocka_unit_test(test_rfc4231_vectors),
		cmocka_unit_test(test_ct_equal_finds_any_difference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
