#include "arch/x86/lib/hmac_sha256.h"

#include <string.h>

#define IPAD 0x36
#define OPAD 0x5c

void hmac_sha256_key(struct hmac_sha256_key *k, const void *key, size_t len)
{
	uint8_t block[SHA256_BLOCK_SIZE] = { 0 }, pad[SHA256_BLOCK_SIZE];

	/* RFC 2104 2: a key longer than a block is replaced by its hash;
	 * shorter ones are padded with zeros. */
	if (len > SHA256_BLOCK_SIZE)
		sha256(key, len, block);
	else
		memcpy(block, key, len);
	for (unsigned i = 0; i < SHA256_BLOCK_SIZE; i++)
		pad[i] = block[i] ^ IPAD;
	sha256_init(&k->inner);
	sha256_update(&k->inner, pad, sizeof(pad));
	for (unsigned i = 0; i < SHA256_BLOCK_SIZE; i++)
		pad[i] = block[i] ^ OPAD;
	sha256_init(&k->outer);
	sha256_update(&k->outer, pad, sizeof(pad));
	memset(block, 0, sizeof(block));
	memset(pad, 0, sizeof(pad));
}

void hmac_sha256_init(struct hmac_sha256 *h, const struct hmac_sha256_key *k)
{
	h->inner = k->inner;
	h->outer = k->outer;
}

void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len)
{
	sha256_update(&h->inner, data, len);
}

void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[HMAC_SHA256_SIZE])
{
	uint8_t inner[SHA256_DIGEST_SIZE];

	/* H(K ^ opad, H(K ^ ipad, text)). */
	sha256_final(&h->inner, inner);
	sha256_update(&h->outer, inner, sizeof(inner));
	sha256_final(&h->outer, out);
	memset(inner, 0, sizeof(inner));
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 uint8_t out[HMAC_SHA256_SIZE])
{
	struct hmac_sha256_key k;
	struct hmac_sha256 h;

	hmac_sha256_key(&k, key, keylen);
	hmac_sha256_init(&h, &k);
	hmac_sha256_update(&h, data, len);
	hmac_sha256_final(&h, out);
	memset(&k, 0, sizeof(k));
}

bool ct_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}
