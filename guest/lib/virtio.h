/* A minimal virtio 1.x PCI (modern) driver for test guests (virtio 1.2,
 * 4.1): finds a function on bus 0 by device ID through configuration
 * mechanism #1, reads its BARs and vendor capabilities, enables it, resets
 * it, negotiates features, sets up split virtqueues in guest memory, posts
 * chains, notifies and polls the used ring. No interrupts: requests are
 * polled. Paging is off in test guests (the 64-bit chaos guest maps the
 * low 4 GiB one to one), so guest-physical addresses are plain pointers
 * and the BARs are reached by their bus addresses.
 *
 * The raw pieces (register access by offset, a queue at any addresses)
 * are public too, so a test guest can also drive a device wrongly. */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_NET 0x1041
#define VIRTIO_PCI_DEVICE_BLK 0x1042

/* PCI configuration space (PCI 3.0, 6.1). */
#define PCI_SLOTS 32
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_CAP_PTR 0x34
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_MSIX 0x11

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Feature bits (6). */
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_BIT(bit) (1ull << (bit))

/* struct virtio_pci_common_cfg (4.1.4.3): offsets from the common
 * configuration's start. */
#define VIRTIO_CC_DEVICE_FEATURE_SELECT 0x00
#define VIRTIO_CC_DEVICE_FEATURE 0x04
#define VIRTIO_CC_DRIVER_FEATURE_SELECT 0x08
#define VIRTIO_CC_DRIVER_FEATURE 0x0c
#define VIRTIO_CC_CONFIG_MSIX_VECTOR 0x10
#define VIRTIO_CC_NUM_QUEUES 0x12
#define VIRTIO_CC_DEVICE_STATUS 0x14
#define VIRTIO_CC_CONFIG_GENERATION 0x15
#define VIRTIO_CC_QUEUE_SELECT 0x16
#define VIRTIO_CC_QUEUE_SIZE 0x18
#define VIRTIO_CC_QUEUE_MSIX_VECTOR 0x1a
#define VIRTIO_CC_QUEUE_ENABLE 0x1c
#define VIRTIO_CC_QUEUE_NOTIFY_OFF 0x1e
#define VIRTIO_CC_QUEUE_DESC 0x20
#define VIRTIO_CC_QUEUE_DRIVER 0x28
#define VIRTIO_CC_QUEUE_DEVICE 0x30
#define VIRTIO_CC_LEN 0x38
#define VIRTIO_NO_VECTOR 0xffff

/* Split virtqueue (2.7). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_MAX_SIZE 256
/* The memory virtq_layout lays one queue of up to VIRTQ_MAX_SIZE into:
 * descriptors, then the available ring at +4 KiB, the used ring at +8 KiB. */
#define VIRTQ_MEM_BYTES 0x3000
#define VIRTQ_AVAIL_OFF 0x1000
#define VIRTQ_USED_OFF 0x2000

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* A function as the capabilities describe it: each structure's address
 * (0 when absent). */
struct virtio_pci {
	unsigned slot; /* device number on bus 0 */
	uint16_t device_id;
	uint32_t bar[6];     /* base addresses as read, type bits cleared */
	uint32_t common;     /* common configuration (memory) */
	uint32_t isr;	     /* ISR status byte (memory) */
	uint32_t device;     /* device-specific configuration (memory) */
	uint16_t notify;     /* notification register (I/O port) */
	uint8_t msix_cap;    /* offset of the MSI-X capability, 0 when none */
	uint32_t msix_table; /* its table's address */
};

/* The driver's view of one queue. */
struct virtq {
	struct virtio_pci *dev;
	uint16_t index, size;
	volatile struct virtq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint8_t *used;	  /* flags, idx, elems[size], avail_event */
	uint16_t next_avail;	  /* the avail idx the driver publishes next */
	uint16_t last_used;	  /* the used entries consumed */
};

/* Configuration mechanism #1, bus 0, function 0 of slot. */
uint32_t pci_config_read(unsigned slot, unsigned off, unsigned size);
void pci_config_write(unsigned slot, unsigned off, unsigned size, uint32_t value);

/* The nth (0-based) function with this virtio device ID: reads its BARs
 * and capabilities and enables I/O, memory and bus mastering. 0, or -1
 * when there is none. */
int virtio_pci_find(uint16_t device_id, unsigned nth, struct virtio_pci *out);

/* MMIO by address, 1, 2 or 4 bytes: one plain MOV each. */
uint32_t mmio_read(uint32_t addr, unsigned size);
void mmio_write(uint32_t addr, unsigned size, uint32_t value);

/* The common configuration's fields, by VIRTIO_CC_* offset. */
uint32_t virtio_cc_read(const struct virtio_pci *d, unsigned off, unsigned size);
void virtio_cc_write(const struct virtio_pci *d, unsigned off, unsigned size, uint32_t value);
uint8_t virtio_status(const struct virtio_pci *d);
void virtio_set_status(const struct virtio_pci *d, uint8_t status);
uint64_t virtio_device_features(const struct virtio_pci *d);

/* Writes status 0 and waits for it to read 0. 0, or -1 if it never does. */
int virtio_reset(const struct virtio_pci *d);
/* Reset, ACKNOWLEDGE, DRIVER, the features (must include VERSION_1),
 * FEATURES_OK, and checks FEATURES_OK stuck (3.1.1). 0 or -1. */
int virtio_negotiate(const struct virtio_pci *d, uint64_t features);
/* Sets DRIVER_OK on top of the current status. */
void virtio_driver_ok(const struct virtio_pci *d);

/* Programs queue index with size entries at the given guest-physical
 * addresses and enables it; q is set up to match (its pointers use the
 * low 32 bits). Returns whether queue_enable then reads 1. */
bool virtq_setup(struct virtio_pci *d, struct virtq *q, uint16_t index, uint16_t size,
		 uint64_t desc, uint64_t avail, uint64_t used);
/* The usual layout in mem (VIRTQ_MEM_BYTES, 4 KiB aligned, zeroed). */
bool virtq_setup_at(struct virtio_pci *d, struct virtq *q, uint16_t index, uint16_t size,
		    void *mem);

/* Puts head in the next available-ring entry and publishes the index. */
void virtq_post(struct virtq *q, uint16_t head);
/* Writes the queue's index to the notification register. */
void virtq_notify(const struct virtq *q);
/* The device's used idx as it is now. */
uint16_t virtq_used_idx(const struct virtq *q);
/* Takes the next used element; false when the device has returned
 * nothing new after a short poll. */
bool virtq_get_used(struct virtq *q, struct virtq_used_elem *out);
/* The same without the poll: false at once when there is nothing new. */
bool virtq_take_used(struct virtq *q, struct virtq_used_elem *out);

/* With VIRTIO_F_RING_EVENT_IDX (2.7.10): whether the chains published
 * since the avail idx was old_idx need a notification, by the device's
 * avail_event (read after a full fence, as 2.7.13 asks). Without the
 * feature, pass event_idx false: the used ring's NO_NOTIFY flag decides. */
bool virtq_need_notify(const struct virtq *q, uint16_t old_idx, bool event_idx);
/* Asks for an interrupt at the next used element (used_event = the
 * elements taken so far), then looks again: true when the ring is still
 * empty, so that waiting for the interrupt is safe. */
bool virtq_arm_interrupt(struct virtq *q);

/* MSI-X (PCI 3.0, 6.8.2): table entry 'entry' sends vector to the local
 * APIC apic_id (fixed, edge), unmasked; the function's MSI-X is enabled. */
void virtio_msix_route(const struct virtio_pci *d, unsigned entry, uint8_t vector, uint8_t apic_id);
/* The MSI-X table entry a queue signals through (VIRTIO_NO_VECTOR: none);
 * returns what the device reads back (VIRTIO_NO_VECTOR when refused). */
uint16_t virtio_queue_vector(const struct virtio_pci *d, uint16_t queue, uint16_t entry);

#endif
