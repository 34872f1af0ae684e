/* HMAC-SHA-256 (RFC 2104, FIPS 198-1): a keyed message authentication
 * code of 32 bytes, taken in pieces; and a comparison of tags whose time
 * does not depend on where they differ. */
#ifndef ARCH_X86_LIB_HMAC_SHA256_H
#define ARCH_X86_LIB_HMAC_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/lib/sha256.h"

#define HMAC_SHA256_SIZE SHA256_DIGEST_SIZE

/* The key made ready once (its inner and outer pads hashed): each MAC
 * then starts from copies of these states. */
struct hmac_sha256_key {
	struct sha256 inner, outer;
};

struct hmac_sha256 {
	struct sha256 inner, outer;
};

/* A key of any length (longer than a block: hashed first, RFC 2104 2). */
void hmac_sha256_key(struct hmac_sha256_key *k, const void *key, size_t len);
void hmac_sha256_init(struct hmac_sha256 *h, const struct hmac_sha256_key *k);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
/* Writes the tag and wipes h. */
void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[HMAC_SHA256_SIZE]);
/* The tag of data[0..len) under key[0..keylen) in one call. */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 uint8_t out[HMAC_SHA256_SIZE]);
/* Whether a[0..len) equals b[0..len), looking at every byte whatever it
 * finds (a forger learns nothing from the time a refusal takes). */
bool ct_equal(const void *a, const void *b, size_t len);

#endif
