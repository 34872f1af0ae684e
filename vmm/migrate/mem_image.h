/* Saved VM images kept in hypervisor memory ("mem:NAME" of the console's
 * save and restore): each a state stream in pages of its own from
 * page_alloc, so what can be saved is bounded by free memory. For tests
 * and for restoring a VM on the same machine; the images go with the
 * machine. */
#ifndef PGVISOR_MIGRATE_MEM_IMAGE_H
#define PGVISOR_MIGRATE_MEM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"
#include "vmm/load/config.h"
#include "vmm/vm/vm.h"

#define MEM_IMAGE_MAX 8
#define MEM_IMAGE_NAME_MAX VM_NAME_MAX

struct mem_image {
	char name[MEM_IMAGE_NAME_MAX]; /* "" when the slot is free */
	char vm[VM_NAME_MAX];	       /* the VM it was saved from */
	uint8_t *data;
	size_t len;    /* the stream's bytes */
	size_t npages; /* the host pages holding it */
	uint64_t guest_pages;
};

/* Saves vm (vm_save's rules) into a new image name. Returns 0, or -1 with
 * one line in why (a name in use, no free slot, not enough memory, a VM
 * that cannot be saved). */
int mem_image_save(struct vm *vm, const char *name, char *why, size_t whylen);
/* A new VM from image name (vm_restore's rules), named as (NULL: as
 * vm_restore picks), its vCPUs on the CPUs of usable; the image stays. The
 * VM, or NULL with one line in why. */
struct vm *mem_image_restore(const char *name, const char *as, const struct boot_info *bi,
			     uint32_t usable, char *why, size_t whylen);
/* The image of that name, or NULL. */
const struct mem_image *mem_image_find(const char *name);
/* The i-th image in use (i from 0), or NULL past the last. */
const struct mem_image *mem_image_at(unsigned i);
/* Frees an image (its bytes zeroed first). -1 when there is none. */
int mem_image_drop(const char *name);
/* Flips every bit of the byte at offset (a test of the stream's checks):
 * from the image's start when type is 0, else from the body of its first
 * record of that type. The byte's place in the image into *at; -1 when
 * there is no such image, record or offset. */
int mem_image_corrupt(const char *name, uint32_t type, uint64_t offset, uint64_t *at);

#endif
