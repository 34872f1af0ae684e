/* Physical page allocator over the RAM the boot loader reported free.
 * Memory is identity-mapped, so a physical address is also a pointer.
 * Free memory is a sorted list of disjoint ranges: allocation is first fit
 * with alignment, freeing merges neighbours. Pages are zeroed when handed
 * out, so nothing one VM left behind reaches another (page_alloc_unzeroed
 * excepted, for a buffer its caller overwrites before anything reads it). */
#ifndef PGVISOR_PAGE_ALLOC_H
#define PGVISOR_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ull
#define PAGE_ALLOC_MAX_RANGES 256

void page_alloc_reset(void);
/* Adds [base, base + len) (trimmed to whole pages) to the free pool. */
void page_alloc_add(uint64_t base, uint64_t len);
/* Removes [base, base + len) from the free pool wherever it overlaps. */
void page_alloc_reserve(uint64_t base, uint64_t len);
/* npages contiguous zeroed pages aligned to align bytes (a power of two,
 * at least PAGE_SIZE), or NULL. */
void *page_alloc_aligned(size_t npages, uint64_t align);
void *page_alloc(size_t npages);
/* npages contiguous pages as they lie, not zeroed: only for a buffer whose
 * every byte the caller writes before it is read or handed on (a VM image,
 * written while the VM stands still, where zeroing would double the pause). */
void *page_alloc_unzeroed(size_t npages);
/* The same aligned as page_alloc_aligned: a VM's RAM, which vm_load clears
 * before anything is loaded into it (zeroing it here too cost a second
 * pass over every byte). */
void *page_alloc_aligned_unzeroed(size_t npages, uint64_t align);
void page_free(void *p, size_t npages);
uint64_t page_alloc_free_bytes(void);

#endif
