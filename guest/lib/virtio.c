#include "virtio.h"

#include "cpu.h"
#include "string.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_ENABLE 0x80000000u
#define PCI_SLOT_SHIFT 11
#define PCI_CFG_VENDOR 0x00
#define PCI_CFG_DEVICE 0x02
#define PCI_CFG_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_BAR_IO 0x1
#define PCI_BAR_IO_MASK 0xfffffffcu
#define PCI_BAR_MEM_MASK 0xfffffff0u
#define PCI_MAX_CAPS 48 /* a list longer than config space allows loops */

/* struct virtio_pci_cap (4.1.4) and the MSI-X capability (PCI 3.0, 6.8.2). */
#define CAP_NEXT 1
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_COMMON_CFG 1
#define CAP_NOTIFY_CFG 2
#define CAP_ISR_CFG 3
#define CAP_DEVICE_CFG 4
#define MSIX_TABLE 4
#define MSIX_BIR_MASK 0x7u

#define MSIX_CTRL 2
#define MSIX_ENABLE 0x8000
#define MSIX_ENTRY_BYTES 16
#define MSIX_ADDR_LO 0
#define MSIX_ADDR_HI 4
#define MSIX_DATA 8
#define MSIX_VECTOR_CTRL 12
#define MSI_ADDRESS 0xfee00000u
#define MSI_DEST_SHIFT 12

#define RESET_POLLS 1000
#define USED_POLLS 100000
#define RING_HDR 4

static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

uint32_t pci_config_read(unsigned slot, unsigned off, unsigned size)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | slot << PCI_SLOT_SHIFT | (off & 0xfc));
	uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (off & 3));
	if (size == 1)
		return inb(port);
	if (size == 2)
		return inw(port);
	return inl(port);
}

void pci_config_write(unsigned slot, unsigned off, unsigned size, uint32_t value)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | slot << PCI_SLOT_SHIFT | (off & 0xfc));
	uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (off & 3));
	if (size == 1)
		outb(port, (uint8_t)value);
	else if (size == 2)
		outw(port, (uint16_t)value);
	else
		outl(port, value);
}

uint32_t mmio_read(uint32_t addr, unsigned size)
{
	if (size == 1)
		return *(volatile uint8_t *)(uintptr_t)addr;
	if (size == 2)
		return *(volatile uint16_t *)(uintptr_t)addr;
	return *(volatile uint32_t *)(uintptr_t)addr;
}

void mmio_write(uint32_t addr, unsigned size, uint32_t value)
{
	if (size == 1)
		*(volatile uint8_t *)(uintptr_t)addr = (uint8_t)value;
	else if (size == 2)
		*(volatile uint16_t *)(uintptr_t)addr = (uint16_t)value;
	else
		*(volatile uint32_t *)(uintptr_t)addr = value;
}

/* Walks the capability list: the virtio structures and MSI-X. */
static void read_caps(struct virtio_pci *d)
{
	unsigned at = pci_config_read(d->slot, PCI_CFG_CAP_PTR, 1) & 0xfc;

	if (!(pci_config_read(d->slot, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return;
	for (unsigned n = 0; at && n < PCI_MAX_CAPS; n++) {
		unsigned id = pci_config_read(d->slot, at, 1);
		unsigned bar = pci_config_read(d->slot, at + CAP_BAR, 1);
		uint32_t offset = pci_config_read(d->slot, at + CAP_OFFSET, 4);
		uint32_t base = bar < 6 ? d->bar[bar] : 0;

		if (id == PCI_CAP_MSIX) {
			uint32_t table = pci_config_read(d->slot, at + MSIX_TABLE, 4);
			d->msix_cap = (uint8_t)at;
			d->msix_table = d->bar[table & MSIX_BIR_MASK] + (table & ~MSIX_BIR_MASK);
		} else if (id == PCI_CAP_VENDOR && base) {
			switch (pci_config_read(d->slot, at + CAP_CFG_TYPE, 1)) {
			case CAP_COMMON_CFG:
				d->common = base + offset;
				break;
			case CAP_NOTIFY_CFG:
				/* Multiplier 0: every queue notifies at offset 0. */
				d->notify = (uint16_t)(base + offset);
				break;
			case CAP_ISR_CFG:
				d->isr = base + offset;
				break;
			case CAP_DEVICE_CFG:
				d->device = base + offset;
				break;
			}
		}
		at = pci_config_read(d->slot, at + CAP_NEXT, 1) & 0xfc;
	}
}

int virtio_pci_find(uint16_t device_id, unsigned nth, struct virtio_pci *out)
{
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
		if (pci_config_read(slot, PCI_CFG_VENDOR, 2) != VIRTIO_PCI_VENDOR ||
		    pci_config_read(slot, PCI_CFG_DEVICE, 2) != device_id || nth--)
			continue;
		memset(out, 0, sizeof(*out));
		out->slot = slot;
		out->device_id = device_id;
		for (unsigned b = 0; b < 6; b++) {
			uint32_t v = pci_config_read(slot, PCI_CFG_BAR0 + 4 * b, 4);
			out->bar[b] = v & PCI_BAR_IO ? v & PCI_BAR_IO_MASK : v & PCI_BAR_MEM_MASK;
		}
		pci_config_write(slot, PCI_CFG_COMMAND, 2,
				 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		read_caps(out);
		return out->common && out->notify ? 0 : -1;
	}
	return -1;
}

uint32_t virtio_cc_read(const struct virtio_pci *d, unsigned off, unsigned size)
{
	return mmio_read(d->common + off, size);
}

void virtio_cc_write(const struct virtio_pci *d, unsigned off, unsigned size, uint32_t value)
{
	mmio_write(d->common + off, size, value);
}

uint8_t virtio_status(const struct virtio_pci *d)
{
	return (uint8_t)virtio_cc_read(d, VIRTIO_CC_DEVICE_STATUS, 1);
}

void virtio_set_status(const struct virtio_pci *d, uint8_t status)
{
	virtio_cc_write(d, VIRTIO_CC_DEVICE_STATUS, 1, status);
}

uint64_t virtio_device_features(const struct virtio_pci *d)
{
	virtio_cc_write(d, VIRTIO_CC_DEVICE_FEATURE_SELECT, 4, 1);
	uint64_t high = virtio_cc_read(d, VIRTIO_CC_DEVICE_FEATURE, 4);
	virtio_cc_write(d, VIRTIO_CC_DEVICE_FEATURE_SELECT, 4, 0);
	return high << 32 | virtio_cc_read(d, VIRTIO_CC_DEVICE_FEATURE, 4);
}

int virtio_reset(const struct virtio_pci *d)
{
	virtio_set_status(d, 0);
	for (unsigned i = 0; i < RESET_POLLS; i++)
		if (virtio_status(d) == 0)
			return 0;
	return -1;
}

int virtio_negotiate(const struct virtio_pci *d, uint64_t features)
{
	if (virtio_reset(d))
		return -1;
	virtio_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	features &= virtio_device_features(d);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, 0);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE, 4, (uint32_t)features);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE_SELECT, 4, 1);
	virtio_cc_write(d, VIRTIO_CC_DRIVER_FEATURE, 4, (uint32_t)(features >> 32));
	virtio_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK);
	return virtio_status(d) & VIRTIO_STATUS_FEATURES_OK ? 0 : -1;
}

void virtio_driver_ok(const struct virtio_pci *d)
{
	virtio_set_status(d, virtio_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

static void write64(const struct virtio_pci *d, unsigned off, uint64_t value)
{
	virtio_cc_write(d, off, 4, (uint32_t)value);
	virtio_cc_write(d, off + 4, 4, (uint32_t)(value >> 32));
}

bool virtq_setup(struct virtio_pci *d, struct virtq *q, uint16_t index, uint16_t size,
		 uint64_t desc, uint64_t avail, uint64_t used)
{
	*q = (struct virtq){
		.dev = d,
		.index = index,
		.size = size,
		.desc = (volatile struct virtq_desc *)(uintptr_t)(uint32_t)desc,
		.avail = (volatile uint16_t *)(uintptr_t)(uint32_t)avail,
		.used = (volatile uint8_t *)(uintptr_t)(uint32_t)used,
	};
	virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, index);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_SIZE, 2, size);
	write64(d, VIRTIO_CC_QUEUE_DESC, desc);
	write64(d, VIRTIO_CC_QUEUE_DRIVER, avail);
	write64(d, VIRTIO_CC_QUEUE_DEVICE, used);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_ENABLE, 2, 1);
	return virtio_cc_read(d, VIRTIO_CC_QUEUE_ENABLE, 2) == 1;
}

bool virtq_setup_at(struct virtio_pci *d, struct virtq *q, uint16_t index, uint16_t size, void *mem)
{
	uint32_t base = (uint32_t)(uintptr_t)mem;

	memset(mem, 0, VIRTQ_MEM_BYTES);
	return virtq_setup(d, q, index, size, base, base + VIRTQ_AVAIL_OFF, base + VIRTQ_USED_OFF);
}

void virtq_post(struct virtq *q, uint16_t head)
{
	if (q->size)
		q->avail[2 + q->next_avail % q->size] = head;
	barrier(); /* the entry before the index (2.7.13); x86 keeps store order */
	q->avail[1] = ++q->next_avail;
	barrier();
}

void virtq_notify(const struct virtq *q)
{
	outw(q->dev->notify, q->index);
}

uint16_t virtq_used_idx(const struct virtq *q)
{
	return *(volatile uint16_t *)(q->used + 2);
}

bool virtq_take_used(struct virtq *q, struct virtq_used_elem *out)
{
	if (virtq_used_idx(q) == q->last_used || !q->size)
		return false;
	barrier(); /* the idx before the element (2.7.13); x86 keeps load order */
	const volatile struct virtq_used_elem *e =
		(const volatile struct virtq_used_elem *)(q->used + RING_HDR) +
		q->last_used % q->size;
	out->id = e->id;
	out->len = e->len;
	q->last_used++;
	return true;
}

bool virtq_get_used(struct virtq *q, struct virtq_used_elem *out)
{
	for (unsigned i = 0; i < USED_POLLS; i++)
		if (virtq_take_used(q, out))
			return true;
	return false;
}

/* The spec's vring_need_event (2.7.10): event lies in [old, new_idx). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static void full_fence(void)
{
	__asm__ volatile("lock; addl $0, (%%esp)" : : : "memory", "cc");
}

bool virtq_need_notify(const struct virtq *q, uint16_t old_idx, bool event_idx)
{
	full_fence(); /* our idx store before the device's field is read */
	if (!event_idx)
		return !(*(volatile uint16_t *)q->used & VIRTQ_USED_F_NO_NOTIFY);
	uint16_t event = *(volatile uint16_t *)(q->used + RING_HDR +
						sizeof(struct virtq_used_elem) * q->size);
	return need_event(event, q->next_avail, old_idx);
}

bool virtq_arm_interrupt(struct virtq *q)
{
	q->avail[2 + q->size] = q->last_used; /* used_event */
	full_fence();			      /* before the used idx is read again */
	return virtq_used_idx(q) == q->last_used;
}

void virtio_msix_route(const struct virtio_pci *d, unsigned entry, uint8_t vector, uint8_t apic_id)
{
	uint32_t e = d->msix_table + entry * MSIX_ENTRY_BYTES;

	mmio_write(e + MSIX_ADDR_LO, 4, MSI_ADDRESS | (uint32_t)apic_id << MSI_DEST_SHIFT);
	mmio_write(e + MSIX_ADDR_HI, 4, 0);
	mmio_write(e + MSIX_DATA, 4, vector);
	mmio_write(e + MSIX_VECTOR_CTRL, 4, 0);
	uint32_t ctrl = pci_config_read(d->slot, d->msix_cap + MSIX_CTRL, 2);
	pci_config_write(d->slot, d->msix_cap + MSIX_CTRL, 2, ctrl | MSIX_ENABLE);
}

uint16_t virtio_queue_vector(const struct virtio_pci *d, uint16_t queue, uint16_t entry)
{
	virtio_cc_write(d, VIRTIO_CC_QUEUE_SELECT, 2, queue);
	virtio_cc_write(d, VIRTIO_CC_QUEUE_MSIX_VECTOR, 2, entry);
	return (uint16_t)virtio_cc_read(d, VIRTIO_CC_QUEUE_MSIX_VECTOR, 2);
}
