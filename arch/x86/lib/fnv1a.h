/* FNV-1a, 64-bit (Fowler, Noll, Vo): a fast non-cryptographic hash, for
 * comparing memory contents (a VM's RAM before and after, the memhash
 * switch). */
#ifndef ARCH_X86_LIB_FNV1A_H
#define ARCH_X86_LIB_FNV1A_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_INIT 0xcbf29ce484222325ull

/* hash continued over len bytes at data: start with FNV1A64_INIT. */
uint64_t fnv1a64(uint64_t hash, const void *data, size_t len);

#endif
