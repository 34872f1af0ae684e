/* The virtio 1.x PCI transport, modern only (virtio 1.2, 4.1): a PCI
 * function with vendor 0x1AF4 and device 0x1040 + type, whose vendor
 * capabilities point the driver at the common configuration, ISR status,
 * device-specific configuration and notification structures.
 *
 * Layout: BAR 0 (memory) holds the common configuration, the ISR byte, the
 * device configuration and the MSI-X table and PBA; BAR 2 (I/O) is the
 * notification register: every queue notifies through it (multiplier 0)
 * by writing its index, so a notification is one port-I/O exit with the
 * queue in the written value, no instruction to decode.
 *
 * A device type (blk, net, console) fills in a struct virtio_dev and its
 * ops; the transport handles feature negotiation, status, queue set-up and
 * interrupts. Interrupts are MSI-X (one vector per queue plus one for
 * configuration changes), or INTA when the driver leaves MSI-X off: the
 * line is raised with the ISR bits and lowered when the driver reads the
 * ISR. */
#ifndef PGVISOR_VIRTIO_PCI_H
#define PGVISOR_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/pci_device.h"
#include "vmm/dev/virtio/virtqueue.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device type */
#define VIRTIO_PCI_REVISION 1	      /* a modern-only device (4.1.2.1) */
#define VIRTIO_MAX_QUEUES 4
#define VIRTIO_CONFIG_MAX 64
#define VIRTIO_NO_VECTOR 0xffff

/* Device types (5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Feature bits every device type may offer (6). */
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_FEATURE(bit) (1ull << (bit))

struct virtio_dev;

/* A stream device's queues (virtio-net 5.1.2, virtio-console 5.3.2). */
#define VIRTIO_RX_QUEUE 0
#define VIRTIO_TX_QUEUE 1

/* A device type gives notify, or, for a stream device (receive queue 0,
 * transmit queue 1), transmit and receive, which the transport calls on a
 * notification of queue 1 (interrupting when a chain went back) and of
 * queue 0 (new receive buffers), and at DRIVER_OK. */
struct virtio_dev_ops {
	/* The device was reset (status 0 written, or the VM reset). */
	void (*reset)(struct virtio_dev *v);
	/* The driver notified queue q (a ready queue, after DRIVER_OK). */
	void (*notify)(struct virtio_dev *v, unsigned q);
	/* Sends what the driver queued; returns whether a chain went back. */
	bool (*transmit)(struct virtio_dev *v);
	/* Fills the driver's receive buffers with what waits. */
	void (*receive)(struct virtio_dev *v);
};

struct virtio_dev {
	struct pci_device pci;
	const char *vm_name;
	const char *name; /* "virtio-blk vda", ... */
	uint16_t type;
	unsigned nqueues;
	uint64_t device_features, driver_features;
	uint32_t device_feature_select, driver_feature_select;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	uint16_t config_msix;
	uint16_t queue_select;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	/* The device-specific configuration structure, little-endian, as
	 * the driver reads it. */
	uint8_t config[VIRTIO_CONFIG_MAX];
	unsigned config_len;
	uint8_t pci_cfg_cap; /* offset of the PCI-config-access capability */
	uint8_t *ram;
	uint64_t ram_size;
	struct dirty_log *dirty; /* its queues note their writes there */
	const struct virtio_dev_ops *ops;
	void *backend;
	uint64_t interrupts; /* MSI-X messages sent, for the summary and tests */
};

/* Sets up v as a fresh (reset) device of type with nqueues queues and its
 * feature bits (VERSION_1 and RING_EVENT_IDX are added). 0 or -1. */
int virtio_dev_init(struct virtio_dev *v, const char *vm_name, const char *name, uint16_t type,
		    uint32_t class_code, unsigned nqueues, uint64_t features, unsigned config_len,
		    uint8_t *ram, uint64_t ram_size, const struct virtio_dev_ops *ops,
		    void *backend);
/* The device's writes into guest RAM (rings, buffers) are noted in
 * dirty, the VM's dirty log, from now on, across resets and loads. */
void virtio_dev_log_writes(struct virtio_dev *v, struct dirty_log *dirty);
/* Whether the driver accepted feature bit. */
static inline bool virtio_has_feature(const struct virtio_dev *v, unsigned bit)
{
	return (v->driver_features >> bit) & 1;
}
/* Whether the device is live: DRIVER_OK set, not in need of reset. */
bool virtio_running(const struct virtio_dev *v);
/* Takes the next chain of queue q into *req: true when there was one;
 * false when the queue is empty or broken (then the device needs a
 * reset, with its line). */
bool virtio_pop(struct virtio_dev *v, unsigned q, struct virtq_req *req);
/* After used-ring pushes on queue q: interrupts the driver if it asked
 * for one (virtq_should_interrupt). */
void virtio_queue_interrupt(struct virtio_dev *v, unsigned q);
/* The device configuration changed (e.g. the link came up). */
void virtio_config_changed(struct virtio_dev *v);
/* A guest value made the device unusable: DEVICE_NEEDS_RESET (2.1.2),
 * one line naming the VM, the device and why. */
void virtio_needs_reset(struct virtio_dev *v, const char *why);

/* The transport's part of a virtio device's state-stream record
 * (docs/STATE_STREAM.md): the PCI function, the device type, queue count,
 * offered features and device configuration (which must equal the
 * destination's: the same device, built from the same VM config), the
 * negotiated features, selectors, status, config generation, ISR, MSI-X
 * vectors, and each queue's size, enable and broken flags, ring addresses
 * and positions (last_avail, used idx, the used idx last signalled).
 * Requests complete within the exit that took them, so no chain is in
 * flight at a save: a live queue must have as many chains returned as
 * taken. A load checks every field into a copy (queue sizes a power of two,
 * rings aligned and inside the destination's RAM, vectors in the MSI-X
 * table, features only those offered, ...): 0, or -1 with r->refused.
 * Nothing of v changes until virtio_dev_load_commit, which the device
 * type calls once its own fields passed too (one load at a time). */
void virtio_dev_save(const struct virtio_dev *v, struct state_writer *w);
int virtio_dev_load(struct virtio_dev *v, struct state_reader *r);
void virtio_dev_load_commit(struct virtio_dev *v);
/* After the guest's RAM was loaded: each live queue's rings agree with the
 * device's positions (virtq_check_loaded). 0, or -1 with *why. */
int virtio_dev_check_loaded(const struct virtio_dev *v, const char **why);

#endif
