/* The virtio operation: a driver that fills its rings with garbage. The
 * VM's first virtio-blk or virtio-net function, found once through PCI
 * configuration space (guest/lib/virtio.c, as guest/vqhostile uses it),
 * is brought up now and then with random features, queue sizes and ring
 * addresses, and in between gets random descriptors (addresses past RAM,
 * above 4 GiB, wrapping 2^64, over RAM's end; huge lengths, random flags,
 * next indices that loop), random available indices, notifications of
 * any queue and random writes to its common configuration. pgvisor must
 * contain all of it: the device may mark itself DEVICE_NEEDS_RESET (virtio
 * 1.2, 2.1.2), and the VM, pgvisor and the other VMs go on.
 *
 * What the device may write (used rings, writable buffers) is either
 * outside the guest's RAM or in this file's two buffers: the guest's own
 * RAM is not for the device to scribble on, any more than for ops.c. */
#include <stdint.h>

#include "guest/chaos/chaos.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/string.h"
#include "guest/lib/virtio.h"

#define DATA_BYTES 0x4000
#define SUBOPS 256	 /* r[0] % SUBOPS picks what the operation does: */
#define SUBOP_FIND 0	 /* 1 in 256: look for the device again (BARs may have moved) */
#define SUBOP_BRING_UP 4 /* 3 in 256: reset, features, a queue, DRIVER_OK */
#define SUBOP_CHAIN 192	 /* 188 in 256: garbage descriptors, an index, a notification */
#define SUBOP_COMMON 232 /* 40 in 256: a random write to the common configuration */
#define SUBOP_ISR 244	 /* 12 in 256: read the ISR (lowers INTx) and device config; */
			 /* the rest: notify a random queue */
#define MAX_CHAIN 8
#define RANDOM_QUEUES 4
#define QUEUE_SIZE_LOG_MAX 9 /* 1 to 256 entries, the split ring's sizes */
#define NEAR_END 64
#define MMIO_WIDTHS 3
#define LAPIC_BASE 0xfee00000ull
#define IOAPIC_BASE 0xfec00000ull
#define REGS_PAGE 0x1000
#define KNUTH_MIX 0x9e3779b97f4a7c15ull

static const uint16_t device_ids[] = { VIRTIO_PCI_DEVICE_BLK, VIRTIO_PCI_DEVICE_NET };
static struct virtio_pci dev;
static bool found;
static struct virtq queue;
static uint16_t queue_size, avail_idx;
static uint64_t ram_end;
static uint8_t rings[VIRTQ_MEM_BYTES] __attribute__((aligned(4096)));
static uint8_t data[DATA_BYTES] __attribute__((aligned(4096)));

/* A splitmix64 step: more random words from one operand. */
static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += KNUTH_MIX);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The device's registers must lie between RAM and the I/O APIC: a BAR
 * that random configuration writes moved onto the guest's RAM or its
 * APICs is not written through. */
static bool in_device_space(uint64_t addr)
{
	return addr >= ram_end && addr < IOAPIC_BASE - REGS_PAGE;
}

/* Into a copy first: at CPL 3 the first port access faults. */
static void find(void)
{
	struct virtio_pci d;
	bool ok = false;
	for (unsigned i = 0; i < sizeof(device_ids) / sizeof(device_ids[0]) && !ok; i++)
		ok = virtio_pci_find(device_ids[i], 0, &d) == 0 && in_device_space(d.common) &&
		     (!d.isr || in_device_space(d.isr)) && (!d.device || in_device_space(d.device));
	dev = d;
	found = ok;
	queue.dev = &dev;
}

void virtio_op_init(uint64_t end)
{
	ram_end = end;
	find();
	if (found)
		printf("chaos: virtio device %x at slot %u, common configuration at %x\n",
		       dev.device_id, dev.slot, dev.common);
	else
		printf("chaos: no virtio device\n");
}

/* A buffer for a descriptor: in the data buffer, or anywhere but the
 * guest's RAM, or running over RAM's end. */
static void garbage_buffer(uint64_t r, uint64_t *addr, uint32_t *len)
{
	uint64_t off = (r >> 8) % DATA_BYTES;
	uint32_t rlen = (uint32_t)(r >> 32);
	switch (r % 8) {
	case 0:
	case 1:
	case 2:
		*addr = (uintptr_t)data + off;
		*len = rlen % (uint32_t)(DATA_BYTES - off + 1);
		return;
	case 3: /* starts in RAM, ends past it */
		*addr = ram_end - 1 - off % NEAR_END;
		*len = (uint32_t)(ram_end - *addr) + 1 + rlen % NEAR_END;
		return;
	case 4:
		*addr = ram_end + off * DATA_BYTES;
		break;
	case 5:
		*addr = FOUR_GIB | (r >> 8);
		break;
	case 6: /* wraps 2^64 */
		*addr = -(uint64_t)(off + 1);
		break;
	default: /* a device window */
		*addr = (r & 256 ? LAPIC_BASE : PCI_WINDOW_BASE) + off;
		break;
	}
	*len = rlen;
}

/* A ring address: mostly where it belongs in rings[], else misaligned
 * there, past RAM, above 4 GiB or over RAM's end. */
static uint64_t garbage_ring(uint64_t r, unsigned offset)
{
	uint64_t normal = (uintptr_t)rings + offset;
	switch (r % 16) {
	case 0:
		return normal + 1 + (r >> 8) % 15;
	case 1:
		return ram_end + ((r >> 8) & 0xfffff000u);
	case 2:
		return FOUR_GIB | (r >> 8);
	case 3:
		return ram_end - 1 - (r >> 8) % NEAR_END;
	default:
		return normal;
	}
}

static void write64(unsigned field, uint64_t value)
{
	virtio_cc_write(&dev, field, 4, (uint32_t)value);
	virtio_cc_write(&dev, field + 4, 4, (uint32_t)(value >> 32));
}

static void bring_up(const struct op_args *a)
{
	uint64_t features =
		(a->r[1] & 1) ? a->r[2] : VIRTIO_BIT(VIRTIO_F_VERSION_1) | (a->r[2] >> 32);
	(void)virtio_negotiate(&dev, features);
	queue_size = (a->r[1] & 0x70) ? (uint16_t)(1u << ((a->r[1] >> 8) % QUEUE_SIZE_LOG_MAX))
				      : (uint16_t)(a->r[1] >> 16);
	uint16_t index = (a->r[1] & 0x180) ? 0 : (uint16_t)((a->r[1] >> 32) % RANDOM_QUEUES);
	memset(rings, 0, sizeof(rings));
	avail_idx = 0;
	(void)virtq_setup(&dev, &queue, index, queue_size, garbage_ring(a->r[3], 0),
			  garbage_ring(a->r[3] >> 4, VIRTQ_AVAIL_OFF),
			  garbage_ring(a->r[3] >> 8, VIRTQ_USED_OFF));
	virtio_driver_ok(&dev);
}

/* Garbage descriptors in rings[], one or more heads in the available
 * ring, an index that moves by one or by anything, a notification. */
static void garbage_chain(const struct op_args *a)
{
	volatile struct virtq_desc *desc = (volatile struct virtq_desc *)rings;
	volatile uint16_t *avail = (volatile uint16_t *)(rings + VIRTQ_AVAIL_OFF);
	uint16_t ring_size =
		queue_size && queue_size <= VIRTQ_MAX_SIZE ? queue_size : VIRTQ_MAX_SIZE;
	uint64_t x = a->r[1];
	unsigned n = 1 + a->r[2] % MAX_CHAIN;
	/* Mostly within the queue, so that the device walks the chain. */
	uint16_t first = (uint16_t)(mix(&x) % (a->r[3] & 0x800 ? VIRTQ_MAX_SIZE : ring_size));

	for (unsigned i = 0; i < n; i++) {
		uint64_t r = mix(&x), addr;
		uint32_t len;
		garbage_buffer(mix(&x), &addr, &len);
		unsigned slot = (first + i) % ring_size;
		desc[slot].addr = addr;
		desc[slot].len = len;
		desc[slot].flags = (uint16_t)(r & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE |
						   VIRTQ_DESC_F_INDIRECT));
		/* Mostly the next slot; else back into the chain (a loop) or
		 * anywhere. */
		desc[slot].next = (r & 0x300)	? (uint16_t)((slot + 1) % ring_size)
				  : (r & 0x400) ? (uint16_t)(first + (r >> 16) % n)
						: (uint16_t)(r >> 16);
	}
	avail[2 + avail_idx % ring_size] = (a->r[2] & 0x100) ? first : (uint16_t)(a->r[2] >> 16);
	avail_idx += (a->r[3] & 7) ? 1 : (uint16_t)(a->r[3] >> 8);
	__asm__ volatile("" : : : "memory"); /* the entries before the index */
	avail[1] = avail_idx;
	virtq_notify(&queue);
}

/* Any field of the common configuration, any width; the ring addresses
 * get garbage_ring's, whole, so the device never writes the guest's RAM. */
static void garbage_common(const struct op_args *a)
{
	unsigned width = 1u << (a->r[2] % MMIO_WIDTHS);
	unsigned field = (unsigned)(a->r[1] % VIRTIO_CC_LEN) & ~(width - 1);
	if (field >= VIRTIO_CC_QUEUE_DESC) {
		field &= ~7u;
		write64(field, garbage_ring(a->r[3],
					    (field - VIRTIO_CC_QUEUE_DESC) / 8 * VIRTQ_AVAIL_OFF));
		return;
	}
	virtio_cc_write(&dev, field, width, (uint32_t)a->r[3]);
}

void op_virtio(struct op_args *a)
{
	unsigned subop = a->r[0] % SUBOPS;
	if (subop == SUBOP_FIND) {
		find();
		return;
	}
	if (!found)
		return;
	if (subop < SUBOP_BRING_UP)
		bring_up(a);
	else if (subop < SUBOP_CHAIN)
		garbage_chain(a);
	else if (subop < SUBOP_COMMON)
		garbage_common(a);
	else if (subop < SUBOP_ISR) {
		if (dev.isr)
			(void)mmio_read(dev.isr, 1);
		if (dev.device)
			(void)mmio_read(dev.device + (uint32_t)(a->r[1] % 16), 1);
	} else
		outw(dev.notify, (uint16_t)a->r[1]);
}
