#include "vmm/dev/virtio/virtio_pci.h"

#include <string.h>

#include "drivers/console.h"

/* BAR 0 (memory): where each structure lives. */
#define BAR_REGS 0
#define BAR_REGS_SIZE 0x4000
#define COMMON_OFF 0x0000
#define COMMON_LEN 0x40
#define ISR_OFF 0x1000
#define ISR_LEN 4
#define DEVICE_OFF 0x2000
#define DEVICE_LEN VIRTIO_CONFIG_MAX
#define MSIX_TABLE_OFF 0x3000
#define MSIX_PBA_OFF 0x3800
/* BAR 2 (I/O): the notification register. */
#define BAR_NOTIFY 2
#define BAR_NOTIFY_SIZE 4
#define NOTIFY_MULTIPLIER 0

/* Capability cfg_type values (4.1.4). */
#define CAP_COMMON_CFG 1
#define CAP_NOTIFY_CFG 2
#define CAP_ISR_CFG 3
#define CAP_DEVICE_CFG 4
#define CAP_PCI_CFG 5
/* struct virtio_pci_cap: offsets in the capability. */
#define CAP_LEN_FIELD 2
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_SIZE 16
#define CAP_NOTIFY_MULT 16 /* virtio_pci_notify_cap */
#define CAP_NOTIFY_SIZE 20
#define CAP_PCI_CFG_DATA 16 /* virtio_pci_cfg_cap */
#define CAP_PCI_CFG_SIZE 20

/* struct virtio_pci_common_cfg (4.1.4.3). */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0c
#define CC_CONFIG_MSIX_VECTOR 0x10
#define CC_NUM_QUEUES 0x12
#define CC_DEVICE_STATUS 0x14
#define CC_CONFIG_GENERATION 0x15
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_MSIX_VECTOR 0x1a
#define CC_QUEUE_ENABLE 0x1c
#define CC_QUEUE_NOTIFY_OFF 0x1e
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30

#define ISR_QUEUE 1
#define ISR_CONFIG 2
#define FEATURE_WORDS 2
#define LOW32 0xffffffffull
#define ISR_BITS (ISR_QUEUE | ISR_CONFIG)

static void reset_state(struct virtio_dev *v)
{
	v->driver_features = 0;
	v->device_feature_select = v->driver_feature_select = 0;
	v->status = 0;
	v->isr = 0;
	pci_device_set_intx(&v->pci, false);
	v->config_msix = VIRTIO_NO_VECTOR;
	v->queue_select = 0;
	for (unsigned q = 0; q < v->nqueues; q++) {
		virtq_reset(&v->vq[q], v->ram, v->ram_size, v->dirty);
		v->vq[q].msix_vector = VIRTIO_NO_VECTOR;
	}
}

static void device_reset(struct virtio_dev *v)
{
	reset_state(v);
	if (v->ops->reset)
		v->ops->reset(v);
}

bool virtio_running(const struct virtio_dev *v)
{
	return (v->status & VIRTIO_STATUS_DRIVER_OK) && !(v->status & VIRTIO_STATUS_NEEDS_RESET);
}

void virtio_needs_reset(struct virtio_dev *v, const char *why)
{
	if (v->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	kprintf("pgvisor: vm %s: %s: %s; device needs reset\n", v->vm_name, v->name, why);
	virtio_config_changed(v);
}

static void send(struct virtio_dev *v, uint16_t vector, uint8_t isr_bit)
{
	v->isr |= isr_bit;
	if (!pci_msix_enabled(&v->pci)) {
		/* INTx: the line stays up until the driver reads the ISR
		 * (4.1.4.5.1). */
		v->interrupts++;
		pci_device_set_intx(&v->pci, true);
		return;
	}
	if (vector == VIRTIO_NO_VECTOR)
		return;
	v->interrupts++;
	pci_msix_notify(&v->pci, vector);
}

bool virtio_pop(struct virtio_dev *v, unsigned q, struct virtq_req *req)
{
	const char *why;
	enum virtq_pop_result res = virtq_pop(&v->vq[q], req, &why);

	if (res == VIRTQ_BROKEN)
		virtio_needs_reset(v, why);
	return res == VIRTQ_OK;
}

void virtio_queue_interrupt(struct virtio_dev *v, unsigned q)
{
	if (q < v->nqueues && virtq_should_interrupt(&v->vq[q]))
		send(v, v->vq[q].msix_vector, ISR_QUEUE);
}

void virtio_config_changed(struct virtio_dev *v)
{
	v->config_generation++;
	send(v, v->config_msix, ISR_CONFIG);
}

static struct virtq *selected(struct virtio_dev *v)
{
	return v->queue_select < v->nqueues ? &v->vq[v->queue_select] : NULL;
}

/* A vector the driver assigns must exist; otherwise it reads back
 * NO_VECTOR, which is how the driver learns it failed (4.1.5.1.2). */
static uint16_t checked_vector(const struct virtio_dev *v, uint32_t value)
{
	return value < v->pci.msix.nvec ? (uint16_t)value : VIRTIO_NO_VECTOR;
}

static uint64_t common_read(struct virtio_dev *v, unsigned off, unsigned size)
{
	struct virtq *q = selected(v);
	uint64_t features = v->device_feature_select < FEATURE_WORDS
				    ? v->device_features >> (32 * v->device_feature_select)
				    : 0;
	uint64_t drv = v->driver_feature_select < FEATURE_WORDS
			       ? v->driver_features >> (32 * v->driver_feature_select)
			       : 0;
	uint8_t regs[COMMON_LEN] = { 0 };

	/* Lay the structure out and read from it: accesses of any width at
	 * any offset see the same bytes. */
	pci_put_le(regs + CC_DEVICE_FEATURE_SELECT, 4, v->device_feature_select);
	pci_put_le(regs + CC_DEVICE_FEATURE, 4, (uint32_t)(features & LOW32));
	pci_put_le(regs + CC_DRIVER_FEATURE_SELECT, 4, v->driver_feature_select);
	pci_put_le(regs + CC_DRIVER_FEATURE, 4, (uint32_t)(drv & LOW32));
	pci_put_le(regs + CC_CONFIG_MSIX_VECTOR, 2, v->config_msix);
	pci_put_le(regs + CC_NUM_QUEUES, 2, v->nqueues);
	regs[CC_DEVICE_STATUS] = v->status;
	regs[CC_CONFIG_GENERATION] = v->config_generation;
	pci_put_le(regs + CC_QUEUE_SELECT, 2, v->queue_select);
	if (q) {
		pci_put_le(regs + CC_QUEUE_SIZE, 2, q->size);
		pci_put_le(regs + CC_QUEUE_MSIX_VECTOR, 2, q->msix_vector);
		pci_put_le(regs + CC_QUEUE_ENABLE, 2, q->ready);
		pci_put_le(regs + CC_QUEUE_NOTIFY_OFF, 2, 0);
		pci_put_le(regs + CC_QUEUE_DESC, 4, (uint32_t)(q->desc_gpa & LOW32));
		pci_put_le(regs + CC_QUEUE_DESC + 4, 4, (uint32_t)(q->desc_gpa >> 32));
		pci_put_le(regs + CC_QUEUE_DRIVER, 4, (uint32_t)(q->avail_gpa & LOW32));
		pci_put_le(regs + CC_QUEUE_DRIVER + 4, 4, (uint32_t)(q->avail_gpa >> 32));
		pci_put_le(regs + CC_QUEUE_DEVICE, 4, (uint32_t)(q->used_gpa & LOW32));
		pci_put_le(regs + CC_QUEUE_DEVICE + 4, 4, (uint32_t)(q->used_gpa >> 32));
	}
	uint64_t value = 0;
	for (unsigned i = 0; i < size; i++)
		value |= (uint64_t)regs[off + i] << (8 * i);
	return value;
}

/* Writes the 32-bit half (or a narrower part) of a 64-bit address. */
static void write_address(uint64_t *field, unsigned off, unsigned base, unsigned size,
			  uint64_t value)
{
	uint8_t bytes[8];

	pci_put_le(bytes, 4, (uint32_t)(*field & LOW32));
	pci_put_le(bytes + 4, 4, (uint32_t)(*field >> 32));
	for (unsigned i = 0; i < size && off - base + i < sizeof(bytes); i++)
		bytes[off - base + i] = (uint8_t)(value >> (8 * i));
	*field = (uint64_t)pci_get_le(bytes + 4, 4) << 32 | pci_get_le(bytes, 4);
}

static void features_ok(struct virtio_dev *v)
{
	/* The driver may accept only what the device offered, and a modern
	 * device insists on VERSION_1 (6.1); otherwise FEATURES_OK stays
	 * clear and the driver gives up (3.1.1). */
	if ((v->driver_features & ~v->device_features) ||
	    !virtio_has_feature(v, VIRTIO_F_VERSION_1))
		return;
	v->status |= VIRTIO_STATUS_FEATURES_OK;
	for (unsigned q = 0; q < v->nqueues; q++)
		v->vq[q].event_idx = virtio_has_feature(v, VIRTIO_F_RING_EVENT_IDX);
}

static void status_write(struct virtio_dev *v, uint8_t value)
{
	uint8_t was = v->status;

	if (!value) {
		device_reset(v);
		return;
	}
	/* NEEDS_RESET is the device's; FEATURES_OK only once accepted. */
	v->status = (uint8_t)((value & ~(VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FEATURES_OK)) |
			      (was & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FEATURES_OK)));
	if ((value & VIRTIO_STATUS_FEATURES_OK) && !(was & VIRTIO_STATUS_FEATURES_OK) &&
	    !(was & VIRTIO_STATUS_DRIVER_OK))
		features_ok(v);
	/* Input may have waited for the driver. */
	if ((value & VIRTIO_STATUS_DRIVER_OK) && !(was & VIRTIO_STATUS_DRIVER_OK) &&
	    virtio_running(v) && v->ops->receive)
		v->ops->receive(v);
}

static void queue_enable(struct virtio_dev *v, struct virtq *q)
{
	const char *why;

	if (q->ready)
		return;
	if (virtq_enable(q, &why)) {
		virtio_needs_reset(v, why);
		return;
	}
	q->ready = true;
}

static void common_write(struct virtio_dev *v, unsigned off, unsigned size, uint64_t value)
{
	struct virtq *q = selected(v);
	uint32_t v32 = (uint32_t)value;

	switch (off) {
	case CC_DEVICE_FEATURE_SELECT:
		v->device_feature_select = v32;
		return;
	case CC_DRIVER_FEATURE_SELECT:
		v->driver_feature_select = v32;
		return;
	case CC_DRIVER_FEATURE:
		/* Features are fixed once FEATURES_OK is set (3.1.1). */
		if (v->driver_feature_select < FEATURE_WORDS &&
		    !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned shift = 32 * v->driver_feature_select;
			v->driver_features =
				(v->driver_features & ~(LOW32 << shift)) | ((uint64_t)v32 << shift);
		}
		return;
	case CC_CONFIG_MSIX_VECTOR:
		v->config_msix = checked_vector(v, v32 & 0xffff);
		return;
	case CC_DEVICE_STATUS:
		status_write(v, (uint8_t)v32);
		return;
	case CC_QUEUE_SELECT:
		v->queue_select = (uint16_t)v32;
		return;
	}
	/* The selected queue's fields: changes only while it is disabled
	 * (4.1.4.3.2), except its vector. */
	if (!q)
		return;
	if (off == CC_QUEUE_MSIX_VECTOR) {
		q->msix_vector = checked_vector(v, v32 & 0xffff);
	} else if (off == CC_QUEUE_ENABLE) {
		if (v32 & 1)
			queue_enable(v, q);
	} else if (q->ready) {
		return;
	} else if (off == CC_QUEUE_SIZE) {
		q->size = (uint16_t)v32;
	} else if (off >= CC_QUEUE_DESC && off < CC_QUEUE_DRIVER) {
		write_address(&q->desc_gpa, off, CC_QUEUE_DESC, size, value);
	} else if (off >= CC_QUEUE_DRIVER && off < CC_QUEUE_DEVICE) {
		write_address(&q->avail_gpa, off, CC_QUEUE_DRIVER, size, value);
	} else if (off >= CC_QUEUE_DEVICE && off < COMMON_LEN) {
		write_address(&q->used_gpa, off, CC_QUEUE_DEVICE, size, value);
	}
}

static bool in(uint32_t offset, unsigned size, uint32_t start, uint32_t len)
{
	return offset >= start && offset - start < len && size <= len - (offset - start);
}

static void queue_notified(struct virtio_dev *v, unsigned q)
{
	if (v->ops->notify)
		v->ops->notify(v, q);
	else if (q == VIRTIO_TX_QUEUE && v->ops->transmit(v))
		virtio_queue_interrupt(v, q);
	else if (q == VIRTIO_RX_QUEUE)
		v->ops->receive(v);
}

static uint64_t regs_read(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size)
{
	struct virtio_dev *v = d->ctx;
	uint64_t value = 0;

	if (bar != BAR_REGS)
		return ~0ull >> (64 - 8 * size);
	if (in(offset, size, COMMON_OFF, COMMON_LEN))
		return common_read(v, offset - COMMON_OFF, size);
	if (in(offset, size, ISR_OFF, ISR_LEN)) {
		/* Reading the ISR status clears it (4.1.4.5). */
		value = offset == ISR_OFF ? v->isr : 0;
		v->isr = 0;
		pci_device_set_intx(d, false);
		return value;
	}
	if (in(offset, size, DEVICE_OFF, DEVICE_LEN)) {
		for (unsigned i = 0; i < size; i++)
			value |= (uint64_t)v->config[offset - DEVICE_OFF + i] << (8 * i);
		return value;
	}
	return 0;
}

static void regs_write(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size,
		       uint64_t value)
{
	struct virtio_dev *v = d->ctx;

	if (bar == BAR_NOTIFY) {
		/* The driver writes the queue's index (4.1.4.4.1). */
		uint16_t q = (uint16_t)value;
		if (offset == 0 && q < v->nqueues && v->vq[q].ready && virtio_running(v))
			queue_notified(v, q);
		return;
	}
	if (bar == BAR_REGS && in(offset, size, COMMON_OFF, COMMON_LEN))
		common_write(v, offset - COMMON_OFF, size, value);
	/* The device configurations here are read-only to the driver. */
}

/* The PCI-config-access capability (4.1.4.9): a window through
 * configuration space onto the BARs, for drivers that cannot map them. */
static bool window(struct virtio_dev *v, unsigned off, unsigned size, unsigned *bar,
		   uint32_t *offset, unsigned *len)
{
	const uint8_t *cap = v->pci.cfg + v->pci_cfg_cap;

	(void)size;
	if (!v->pci_cfg_cap || off != (unsigned)v->pci_cfg_cap + CAP_PCI_CFG_DATA)
		return false;
	*bar = cap[CAP_BAR];
	*offset = pci_get_le(cap + CAP_OFFSET, 4);
	*len = pci_get_le(cap + CAP_LENGTH, 4);
	return true;
}

static bool window_ok(unsigned bar, uint32_t offset, unsigned len)
{
	return (bar == BAR_REGS || bar == BAR_NOTIFY) && (len == 1 || len == 2 || len == 4) &&
	       !(offset & (len - 1));
}

static bool cfg_read(struct pci_device *d, unsigned off, unsigned size, uint32_t *value)
{
	struct virtio_dev *v = d->ctx;
	unsigned bar, len;
	uint32_t offset;

	if (!window(v, off, size, &bar, &offset, &len))
		return false;
	*value = window_ok(bar, offset, len) ? (uint32_t)pci_device_bar_read(d, bar, offset, len)
					     : 0;
	return true;
}

static bool cfg_write(struct pci_device *d, unsigned off, unsigned size, uint32_t value)
{
	struct virtio_dev *v = d->ctx;
	unsigned bar, len;
	uint32_t offset;

	if (!window(v, off, size, &bar, &offset, &len))
		return false;
	if (window_ok(bar, offset, len))
		pci_device_bar_write(d, bar, offset, len, value);
	return true;
}

static const struct pci_device_ops virtio_pci_ops = {
	.bar_read = regs_read,
	.bar_write = regs_write,
	.config_read = cfg_read,
	.config_write = cfg_write,
};

static int add_cap(struct virtio_dev *v, uint8_t type, uint8_t len, uint8_t bar, uint32_t off,
		   uint32_t length)
{
	uint8_t at = pci_add_capability(&v->pci, PCI_CAP_ID_VENDOR, len);
	uint8_t *cap = v->pci.cfg + at;

	if (!at)
		return -1;
	cap[CAP_LEN_FIELD] = len;
	cap[CAP_CFG_TYPE] = type;
	cap[CAP_BAR] = bar;
	pci_put_le(cap + CAP_OFFSET, 4, off);
	pci_put_le(cap + CAP_LENGTH, 4, length);
	return at;
}

void virtio_dev_log_writes(struct virtio_dev *v, struct dirty_log *dirty)
{
	v->dirty = dirty;
	for (unsigned q = 0; q < v->nqueues; q++)
		v->vq[q].dirty = dirty;
}

int virtio_dev_init(struct virtio_dev *v, const char *vm_name, const char *name, uint16_t type,
		    uint32_t class_code, unsigned nqueues, uint64_t features, unsigned config_len,
		    uint8_t *ram, uint64_t ram_size, const struct virtio_dev_ops *ops,
		    void *backend)
{
	struct pci_device *d = &v->pci;
	int cfg_cap;

	if (!nqueues || nqueues > VIRTIO_MAX_QUEUES || config_len > VIRTIO_CONFIG_MAX)
		return -1;
	memset(v, 0, sizeof(*v));
	v->vm_name = vm_name;
	v->name = name;
	v->type = type;
	v->nqueues = nqueues;
	v->device_features = features | VIRTIO_FEATURE(VIRTIO_F_VERSION_1) |
			     VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
	v->config_len = config_len;
	v->ram = ram;
	v->ram_size = ram_size;
	v->ops = ops;
	v->backend = backend;
	pci_device_init(d, name, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + type),
			class_code, VIRTIO_PCI_REVISION, &virtio_pci_ops, v);
	if (pci_device_set_bar(d, BAR_REGS, PCI_BAR_MEM32, BAR_REGS_SIZE, 0) ||
	    pci_device_set_bar(d, BAR_NOTIFY, PCI_BAR_IO, BAR_NOTIFY_SIZE, 0) ||
	    pci_device_add_msix(d, nqueues + 1, BAR_REGS, MSIX_TABLE_OFF, MSIX_PBA_OFF))
		return -1;
	cfg_cap = add_cap(v, CAP_PCI_CFG, CAP_PCI_CFG_SIZE, 0, 0, 0);
	if (cfg_cap < 0 ||
	    add_cap(v, CAP_COMMON_CFG, CAP_SIZE, BAR_REGS, COMMON_OFF, COMMON_LEN) < 0 ||
	    add_cap(v, CAP_ISR_CFG, CAP_SIZE, BAR_REGS, ISR_OFF, ISR_LEN) < 0 ||
	    (config_len &&
	     add_cap(v, CAP_DEVICE_CFG, CAP_SIZE, BAR_REGS, DEVICE_OFF, config_len) < 0))
		return -1;
	int notify = add_cap(v, CAP_NOTIFY_CFG, CAP_NOTIFY_SIZE, BAR_NOTIFY, 0, BAR_NOTIFY_SIZE);
	if (notify < 0)
		return -1;
	pci_put_le(d->cfg + notify + CAP_NOTIFY_MULT, 4, NOTIFY_MULTIPLIER);
	/* INTA, routed by the guest's _PRT: the fallback for drivers
	 * without MSI-X. */
	d->cfg[PCI_CFG_INTERRUPT_PIN] = PCI_INTX_PIN_A;
	/* The window's bar, offset and length fields are the driver's. */
	v->pci_cfg_cap = (uint8_t)cfg_cap;
	d->wmask[cfg_cap + CAP_BAR] = 0xff;
	memset(d->wmask + cfg_cap + CAP_OFFSET, 0xff, 8);
	reset_state(v);
	return 0;
}

static void queue_save(const struct virtq *q, struct state_writer *w)
{
	state_put_u16(w, q->size);
	state_put_bool(w, q->ready);
	state_put_bool(w, q->broken);
	state_put_u16(w, q->msix_vector);
	state_put_u64(w, q->desc_gpa);
	state_put_u64(w, q->avail_gpa);
	state_put_u64(w, q->used_gpa);
	state_put_u16(w, q->last_avail);
	state_put_u16(w, q->used_idx);
	state_put_u16(w, q->signalled);
}

void virtio_dev_save(const struct virtio_dev *v, struct state_writer *w)
{
	pci_device_save(&v->pci, w);
	state_put_u16(w, v->type);
	state_put_u8(w, (uint8_t)v->nqueues);
	state_put_u64(w, v->device_features);
	state_put_u64(w, v->driver_features);
	state_put_u32(w, v->device_feature_select);
	state_put_u32(w, v->driver_feature_select);
	state_put_u8(w, v->status);
	state_put_u8(w, v->config_generation);
	state_put_u8(w, v->isr);
	state_put_u16(w, v->config_msix);
	state_put_u16(w, v->queue_select);
	state_put_u8(w, (uint8_t)v->config_len);
	state_put_bytes(w, v->config, v->config_len);
	for (unsigned i = 0; i < v->nqueues; i++)
		queue_save(&v->vq[i], w);
}

static bool vector_ok(const struct virtio_dev *v, uint16_t vector)
{
	return vector == VIRTIO_NO_VECTOR || vector < v->pci.msix.nvec;
}

/* One queue into q (a copy of the device's, on the destination's RAM). */
static void queue_load(const struct virtio_dev *v, struct virtq *q, bool running,
		       struct state_reader *r)
{
	const char *why;
	struct virtq check;

	q->size = state_get_u16(r);
	q->ready = state_get_bool(r);
	q->broken = state_get_bool(r);
	q->msix_vector = state_get_u16(r);
	q->desc_gpa = state_get_u64(r);
	q->avail_gpa = state_get_u64(r);
	q->used_gpa = state_get_u64(r);
	q->last_avail = state_get_u16(r);
	q->used_idx = state_get_u16(r);
	q->signalled = state_get_u16(r);
	if (!vector_ok(v, q->msix_vector))
		state_refuse(r, "virtio: queue vector past the MSI-X table");
	if (!q->ready || q->broken)
		return;
	/* A live queue passed virtq_enable's checks: they must hold here too
	 * (size, alignment, every ring inside this VM's RAM). */
	check = *q;
	check.ready = false;
	if (virtq_enable(&check, &why)) {
		state_refuse(r, why);
		return;
	}
	/* Chains taken and not yet returned: none, unless the device
	 * stopped midway (needs reset); never more than the ring holds. */
	uint16_t in_flight = (uint16_t)(q->last_avail - q->used_idx);
	if (in_flight > q->size)
		state_refuse(r, "virtio: queue index beyond the ring");
	else if (in_flight && running)
		state_refuse(r,
			     "virtio: a request in flight (none is: they complete in their exit)");
}

/* What virtio_dev_load read, until virtio_dev_load_commit: too big for a
 * stack, and loads run one at a time (under the restore's lock). */
static struct virtio_dev n;

int virtio_dev_load(struct virtio_dev *v, struct state_reader *r)
{
	uint8_t config[VIRTIO_CONFIG_MAX];
	uint16_t type;
	unsigned nqueues, config_len;
	uint64_t device_features;

	n = *v;
	if (pci_device_load(&n.pci, r))
		return -1;
	type = state_get_u16(r);
	nqueues = state_get_u8(r);
	device_features = state_get_u64(r);
	n.driver_features = state_get_u64(r);
	n.device_feature_select = state_get_u32(r);
	n.driver_feature_select = state_get_u32(r);
	n.status = state_get_u8(r);
	n.config_generation = state_get_u8(r);
	n.isr = state_get_u8(r);
	n.config_msix = state_get_u16(r);
	n.queue_select = state_get_u16(r);
	config_len = state_get_u8(r);
	if (type != v->type || nqueues != v->nqueues || device_features != v->device_features ||
	    config_len != v->config_len) {
		state_refuse(r, "virtio: another kind of device or other features than this VM's");
		return -1;
	}
	state_get_bytes(r, config, config_len);
	if (memcmp(config, v->config, config_len))
		state_refuse(r, "virtio: device configuration differs from this VM's device");
	if ((n.status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((n.driver_features & ~device_features) ||
	     !(n.driver_features & VIRTIO_FEATURE(VIRTIO_F_VERSION_1))))
		state_refuse(r, "virtio: features accepted that the device does not offer");
	if (n.isr & ~ISR_BITS)
		state_refuse(r, "virtio: ISR bits the device does not have");
	if (!vector_ok(v, n.config_msix))
		state_refuse(r, "virtio: configuration vector past the MSI-X table");
	for (unsigned i = 0; i < nqueues && !r->refused; i++) {
		struct virtq *q = &n.vq[i];
		virtq_reset(q, v->ram, v->ram_size, v->dirty);
		queue_load(v, q, virtio_running(&n), r);
		/* What FEATURES_OK set on every queue (features_ok). */
		q->event_idx = (n.status & VIRTIO_STATUS_FEATURES_OK) &&
			       ((n.driver_features >> VIRTIO_F_RING_EVENT_IDX) & 1);
	}
	return r->refused ? -1 : 0;
}

void virtio_dev_load_commit(struct virtio_dev *v)
{
	*v = n;
}

int virtio_dev_check_loaded(const struct virtio_dev *v, const char **why)
{
	for (unsigned i = 0; i < v->nqueues; i++)
		if (virtq_check_loaded(&v->vq[i], why))
			return -1;
	return 0;
}
