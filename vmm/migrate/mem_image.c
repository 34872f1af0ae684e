#include "vmm/migrate/mem_image.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/page_alloc.h"
#include "arch/x86/spinlock.h"
#include "vmm/migrate/stream.h"
#include "vmm/migrate/vm_restore.h"
#include "vmm/migrate/vm_save.h"

#define MIB_SHIFT 20

static struct mem_image images[MEM_IMAGE_MAX];
static struct spinlock images_lock;

static size_t pages_for(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static struct mem_image *find(const char *name)
{
	for (unsigned i = 0; i < MEM_IMAGE_MAX; i++)
		if (images[i].name[0] && !strcmp(images[i].name, name))
			return &images[i];
	return NULL;
}

int mem_image_save(struct vm *vm, const char *name, char *why, size_t whylen)
{
	/* The VM's clock as the command began: its state is as it was then. */
	uint64_t clock_ns = vtime_now_ns(&vm->vtime);
	struct mem_image *slot = NULL;
	int ret = -1;

	spin_lock(&images_lock);
	if (find(name)) {
		snprintf(why, whylen, "save: image mem:%s exists (drop it first)", name);
		goto out;
	}
	for (unsigned i = 0; i < MEM_IMAGE_MAX && !slot; i++)
		if (!images[i].name[0])
			slot = &images[i];
	if (!slot) {
		snprintf(why, whylen, "save: %u images already (drop one first)", MEM_IMAGE_MAX);
		goto out;
	}
	size_t bound = vm_save_bound(vm), npages = pages_for(bound);
	/* Not zeroed: the stream writer writes every byte up to the stream's
	 * length (the rest of its last page is zeroed below), and zeroing the
	 * whole bound (the VM's RAM size) took most of the pause. */
	uint8_t *data = page_alloc_unzeroed(npages);
	if (!data) {
		snprintf(why, whylen,
			 "save: vm %s: not enough memory for its image (%zu MiB "
			 "asked, %llu MiB free)",
			 vm->name, bound >> MIB_SHIFT,
			 (unsigned long long)(page_alloc_free_bytes() >> MIB_SHIFT));
		goto out;
	}
	uint64_t guest_pages;
	long len = vm_save(vm, clock_ns, data, npages * PAGE_SIZE, &guest_pages, why, whylen);
	if (len < 0) {
		page_free(data, npages);
		goto out;
	}
	/* The pages past the stream go back at once. */
	size_t used = pages_for((size_t)len);
	memset(data + len, 0, used * PAGE_SIZE - (size_t)len);
	if (npages > used)
		page_free(data + used * PAGE_SIZE, npages - used);
	*slot = (struct mem_image){
		.data = data, .len = (size_t)len, .npages = used, .guest_pages = guest_pages
	};
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	snprintf(slot->vm, sizeof(slot->vm), "%s", vm->name);
	ret = 0;
out:
	spin_unlock(&images_lock);
	return ret;
}

struct vm *mem_image_restore(const char *name, const char *as, const struct boot_info *bi,
			     uint32_t usable, char *why, size_t whylen)
{
	struct vm *vm = NULL;

	/* Held throughout: the image cannot be dropped while it is read. */
	spin_lock(&images_lock);
	struct mem_image *m = find(name);
	if (!m)
		snprintf(why, whylen, "no image mem:%s", name);
	else
		vm = vm_restore(m->data, m->len, as, bi, usable, why, whylen);
	spin_unlock(&images_lock);
	return vm;
}

const struct mem_image *mem_image_find(const char *name)
{
	return find(name);
}

const struct mem_image *mem_image_at(unsigned i)
{
	for (unsigned k = 0; k < MEM_IMAGE_MAX; k++)
		if (images[k].name[0] && i-- == 0)
			return &images[k];
	return NULL;
}

int mem_image_drop(const char *name)
{
	int ret = -1;

	spin_lock(&images_lock);
	struct mem_image *m = find(name);
	if (m) {
		/* A VM's memory does not outlive what it was saved in. */
		memset(m->data, 0, m->len);
		page_free(m->data, m->npages);
		*m = (struct mem_image){ 0 };
		ret = 0;
	}
	spin_unlock(&images_lock);
	return ret;
}

/* Where the body of m's first record of type starts, and its length. */
static int record_body(const struct mem_image *m, uint32_t type, size_t *start, size_t *len)
{
	struct stream_reader sr;
	struct stream_record rec;

	if (stream_reader_init(&sr, m->data, m->len, 0))
		return -1;
	while (stream_next(&sr, &rec) == STREAM_OK)
		if (rec.type == type) {
			*start = (size_t)(rec.body.buf - m->data);
			*len = rec.body.len;
			return 0;
		}
	return -1;
}

int mem_image_corrupt(const char *name, uint32_t type, uint64_t offset, uint64_t *at)
{
	int ret = -1;
	size_t start = 0, len;

	spin_lock(&images_lock);
	struct mem_image *m = find(name);
	if (m) {
		len = m->len;
		if ((!type || !record_body(m, type, &start, &len)) && offset < len) {
			*at = start + offset;
			m->data[*at] ^= 0xff;
			ret = 0;
		}
	}
	spin_unlock(&images_lock);
	return ret;
}
