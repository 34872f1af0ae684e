/* The NVMe controller (NVMe 1.4): reset and enable, the admin commands that
 * identify it and build an I/O queue pair, then reads, writes and flushes,
 * one command at a time. Entries and queues: drivers/storage/nvme_cmd.c and
 * nvme_queue.c. */
#include "drivers/storage/nvme.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/paging.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/pci.h"
#include "drivers/storage/blockdev.h"
#include "drivers/storage/nvme_cmd.h"
#include "drivers/storage/nvme_queue.h"

#define NVME_CLASS 0x010802u /* mass storage, NVM, NVM Express (PCI code and ID 1.11) */
#define NVME_CLASS_MASK 0xffffffu
#define NVME_BAR 0 /* MLBAR/MUBAR (2.1.10) */

/* Controller registers (3.1, figure 78). */
#define REG_CAP 0x00	      /* 64 bits */
#define CAP_MQES_MASK 0xffffu /* max queue entries, 0's based */
#define CAP_TO_SHIFT 24	      /* ready timeout, 500 ms units */
#define CAP_TO_MASK 0xffu
#define CAP_TO_UNIT_MS 500
#define CAP_DSTRD_SHIFT 32
#define CAP_DSTRD_MASK 0xfu
#define CAP_CSS_NVM (1ull << 37) /* NVM command set supported */
#define CAP_MPSMIN_SHIFT 48	 /* smallest page 2^(12 + MPSMIN) */
#define CAP_MPSMIN_MASK 0xfu
#define REG_INTMS 0x0c /* interrupt mask set */
#define REG_CC 0x14
#define CC_EN (1u << 0)
#define CC_IOSQES_SHIFT 16 /* I/O SQ entry 2^6 = 64 bytes (3.1.5) */
#define CC_IOCQES_SHIFT 20 /* I/O CQ entry 2^4 = 16 bytes */
#define SQES_LOG2 6
#define CQES_LOG2 4
#define REG_CSTS 0x1c
#define CSTS_RDY (1u << 0)
#define CSTS_CFS (1u << 1) /* controller fatal status (3.1.6) */
#define REG_AQA 0x24
#define AQA_ACQS_SHIFT 16 /* both sizes 0's based */
#define REG_ASQ 0x28
#define REG_ACQ 0x30

#define ADMIN_QID 0
#define IO_QID 1
#define QUEUE_ENTRIES 16 /* one command in flight at a time: a few slots do */
#define COMMAND_MS 5000
#define BOUNCE_PAGES 16 /* 64 KiB */
#define BOUNCE_BYTES (BOUNCE_PAGES * NVME_PAGE)
#define PRP_LIST_MAX (NVME_PAGE / sizeof(uint64_t))
#define MAX_CONTROLLERS 4
#define MAX_NAMESPACES BLOCKDEV_MAX

struct nvme_ctrl {
	volatile uint8_t *regs;
	unsigned index, dstrd;
	struct nvme_queue admin, io;
	struct nvme_sqe *admin_sq, *io_sq;
	struct nvme_cqe *admin_cq, *io_cq;
	uint8_t *bounce;
	uint64_t *prp_list;
	uint32_t max_bytes; /* a command's transfer: the bounce buffer or MDTS */
	/* Namespaces of one controller share its queue and buffer. */
	struct spinlock lock;
};

struct nvme_ns {
	struct nvme_ctrl *ctrl;
	uint32_t nsid;
	struct blockdev dev;
};

static struct nvme_ctrl ctrls[MAX_CONTROLLERS];
static unsigned nctrls;
static struct nvme_ns namespaces[MAX_NAMESPACES];
static unsigned nnamespaces;

static uint32_t rd(const struct nvme_ctrl *c, unsigned off)
{
	uint32_t v = *(volatile uint32_t *)(c->regs + off);
	__asm__ volatile("" ::: "memory");
	return v;
}

static uint64_t rd64(const struct nvme_ctrl *c, unsigned off)
{
	return rd(c, off) | (uint64_t)rd(c, off + 4) << 32;
}

static void wr(const struct nvme_ctrl *c, unsigned off, uint32_t v)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)(c->regs + off) = v;
}

static void wr64(const struct nvme_ctrl *c, unsigned off, uint64_t v)
{
	wr(c, off, (uint32_t)v);
	wr(c, off + 4, (uint32_t)(v >> 32));
}

static uint64_t phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static uint64_t deadline(unsigned ms)
{
	return rdtsc() + tsc_hz() / 1000 * ms;
}

/* Sends e on q and waits for its completion; 0, or -1 with why. A
 * completion for an earlier command that timed out is skipped. */
static int run(struct nvme_ctrl *c, struct nvme_queue *q, struct nvme_sqe *e, char *why, size_t len)
{
	uint64_t end = deadline(COMMAND_MS);
	struct nvme_cqe done;
	int cid = nvme_queue_submit(q, e);

	if (cid < 0) {
		snprintf(why, len, "queue full");
		return -1;
	}
	for (;;) {
		if (nvme_queue_reap(q, &done)) {
			if (done.cid != cid)
				continue;
			if (nvme_status_sct(done.status) || nvme_status_sc(done.status)) {
				snprintf(why, len, "device error sct %u sc 0x%02x",
					 nvme_status_sct(done.status), nvme_status_sc(done.status));
				return -1;
			}
			return 0;
		}
		if (rd(c, REG_CSTS) & CSTS_CFS) {
			snprintf(why, len, "controller fatal status");
			return -1;
		}
		if (rdtsc() > end) {
			snprintf(why, len, "timeout after %u ms", COMMAND_MS);
			return -1;
		}
		cpu_relax();
	}
}

/* Writes from in (out NULL) or reads into out (in NULL) through the
 * bounce buffer, max_bytes a command. */
static int transfer(struct nvme_ns *ns, uint64_t lba, uint32_t count, const uint8_t *in,
		    uint8_t *out, char *why, size_t len)
{
	bool write = in;
	struct nvme_ctrl *c = ns->ctrl;
	uint32_t per = c->max_bytes / BLOCK_SECTOR;
	struct nvme_sqe e;
	uint64_t prp1, prp2;
	int r = 0;

	spin_lock(&c->lock);
	while (count && !r) {
		uint32_t n = count < per ? count : per;
		uint32_t bytes = n * BLOCK_SECTOR;
		if (nvme_prp_build(phys(c->bounce), bytes, c->prp_list, phys(c->prp_list),
				   PRP_LIST_MAX, &prp1, &prp2)) {
			snprintf(why, len, "%u bytes need more than one PRP list", bytes);
			r = -1;
			break;
		}
		if (write) {
			memcpy(c->bounce, in, bytes);
			in += bytes;
		}
		nvme_cmd_rw(&e, write, ns->nsid, lba, n, prp1, prp2);
		r = run(c, &c->io, &e, why, len);
		if (!r && !write) {
			memcpy(out, c->bounce, bytes);
			out += bytes;
		}
		lba += n;
		count -= n;
	}
	spin_unlock(&c->lock);
	return r;
}

static int nvme_read(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, char *why,
		     size_t len)
{
	return transfer(d->priv, lba, count, NULL, buf, why, len);
}

static int nvme_write(struct blockdev *d, uint64_t lba, uint32_t count, const void *buf, char *why,
		      size_t len)
{
	return transfer(d->priv, lba, count, buf, NULL, why, len);
}

static int nvme_flush(struct blockdev *d, char *why, size_t len)
{
	struct nvme_ns *ns = d->priv;
	struct nvme_sqe e;

	spin_lock(&ns->ctrl->lock);
	nvme_cmd_flush(&e, ns->nsid);
	int r = run(ns->ctrl, &ns->ctrl->io, &e, why, len);
	spin_unlock(&ns->ctrl->lock);
	return r;
}

static const struct blockdev_ops nvme_ops = { nvme_read, nvme_write, nvme_flush };

/* Waits for CSTS.RDY to read ready within the controller's CAP.TO. */
static int wait_ready(struct nvme_ctrl *c, bool ready, unsigned ms, char *why, size_t len)
{
	uint64_t end = deadline(ms);

	for (;;) {
		uint32_t csts = rd(c, REG_CSTS);
		if (ready && (csts & CSTS_CFS)) {
			snprintf(why, len, "controller fatal status while enabling");
			return -1;
		}
		if (!!(csts & CSTS_RDY) == ready)
			return 0;
		if (rdtsc() > end) {
			snprintf(why, len, "CSTS.RDY not %u after %u ms", ready, ms);
			return -1;
		}
		cpu_relax();
	}
}

/* Disables, sets up the admin queues and enables the controller (7.6.1). */
static int enable(struct nvme_ctrl *c, char *why, size_t len)
{
	uint64_t cap = rd64(c, REG_CAP);
	unsigned to = (unsigned)(cap >> CAP_TO_SHIFT & CAP_TO_MASK);
	unsigned ms = (to ? to : 1) * CAP_TO_UNIT_MS;
	uint16_t entries = QUEUE_ENTRIES;

	if (!(cap & CAP_CSS_NVM) || (cap >> CAP_MPSMIN_SHIFT & CAP_MPSMIN_MASK)) {
		snprintf(why, len, "no NVM command set with 4 KiB pages (CAP 0x%016llx)",
			 (unsigned long long)cap);
		return -1;
	}
	if ((cap & CAP_MQES_MASK) + 1u < entries)
		entries = (uint16_t)((cap & CAP_MQES_MASK) + 1);
	c->dstrd = (unsigned)(cap >> CAP_DSTRD_SHIFT & CAP_DSTRD_MASK);
	wr(c, REG_CC, rd(c, REG_CC) & ~CC_EN);
	if (wait_ready(c, false, ms, why, len))
		return -1;
	wr(c, REG_INTMS, ~0u);
	nvme_queue_init(
		&c->admin, c->admin_sq, c->admin_cq, entries,
		(volatile uint32_t *)(c->regs + nvme_doorbell_offset(ADMIN_QID, false, c->dstrd)),
		(volatile uint32_t *)(c->regs + nvme_doorbell_offset(ADMIN_QID, true, c->dstrd)));
	nvme_queue_init(
		&c->io, c->io_sq, c->io_cq, entries,
		(volatile uint32_t *)(c->regs + nvme_doorbell_offset(IO_QID, false, c->dstrd)),
		(volatile uint32_t *)(c->regs + nvme_doorbell_offset(IO_QID, true, c->dstrd)));
	wr(c, REG_AQA, (uint32_t)(entries - 1) << AQA_ACQS_SHIFT | (uint32_t)(entries - 1));
	wr64(c, REG_ASQ, phys(c->admin_sq));
	wr64(c, REG_ACQ, phys(c->admin_cq));
	wr(c, REG_CC, SQES_LOG2 << CC_IOSQES_SHIFT | CQES_LOG2 << CC_IOCQES_SHIFT | CC_EN);
	return wait_ready(c, true, ms, why, len);
}

/* Identify Controller, then the I/O queue pair (completion queue first). */
static int setup(struct nvme_ctrl *c, struct nvme_ctrl_identity *id, char *why, size_t len)
{
	struct nvme_sqe e;

	if (enable(c, why, len))
		return -1;
	nvme_cmd_identify(&e, NVME_CNS_CONTROLLER, 0, phys(c->bounce));
	if (run(c, &c->admin, &e, why, len))
		return -1;
	nvme_identify_controller_parse(c->bounce, id);
	c->max_bytes = BOUNCE_BYTES;
	if (id->mdts && (NVME_PAGE << id->mdts) < c->max_bytes)
		c->max_bytes = NVME_PAGE << id->mdts;
	nvme_cmd_create_cq(&e, IO_QID, c->io.entries, phys(c->io_cq));
	if (run(c, &c->admin, &e, why, len))
		return -1;
	nvme_cmd_create_sq(&e, IO_QID, c->io.entries, IO_QID, phys(c->io_sq));
	return run(c, &c->admin, &e, why, len);
}

/* Identifies namespace nsid and registers it when pgvisor can use it. */
static void add_namespace(struct nvme_ctrl *c, uint32_t nsid, const char *model)
{
	struct nvme_ns *ns = &namespaces[nnamespaces];
	struct nvme_ns_identity id;
	struct nvme_sqe e;
	char why[80];

	if (nnamespaces == MAX_NAMESPACES) {
		kprintf("pgvisor: nvme%un%u: not used: at most %u NVMe namespaces\n", c->index,
			nsid, MAX_NAMESPACES);
		return;
	}
	nvme_cmd_identify(&e, NVME_CNS_NAMESPACE, nsid, phys(c->bounce));
	if (run(c, &c->admin, &e, why, sizeof(why)) ||
	    nvme_identify_namespace_parse(c->bounce, &id, why, sizeof(why))) {
		kprintf("pgvisor: nvme%un%u: not used: %s\n", c->index, nsid, why);
		return;
	}
	if (id.block_size != BLOCK_SECTOR || id.metadata) {
		kprintf("pgvisor: nvme%un%u: not used: formatted with %u-byte blocks and %u "
			"bytes of metadata, pgvisor needs 512 and 0\n",
			c->index, nsid, id.block_size, id.metadata);
		return;
	}
	memset(ns, 0, sizeof(*ns));
	ns->ctrl = c;
	ns->nsid = nsid;
	snprintf(ns->dev.name, sizeof(ns->dev.name), "nvme%un%u", c->index, nsid);
	snprintf(ns->dev.model, sizeof(ns->dev.model), "%s", model);
	ns->dev.sectors = id.blocks;
	ns->dev.ops = &nvme_ops;
	ns->dev.priv = ns;
	if (!blockdev_register(&ns->dev))
		nnamespaces++;
}

/* The active namespaces (Identify CNS 02h) one by one; 0, or -1 with why. */
static int add_namespaces(struct nvme_ctrl *c, const struct nvme_ctrl_identity *id, char *why,
			  size_t len)
{
	/* A copy: identifying each namespace reuses the bounce buffer. */
	static uint32_t list[NVME_NSID_LIST_MAX];
	struct nvme_sqe e;

	nvme_cmd_identify(&e, NVME_CNS_ACTIVE_NSIDS, 0, phys(c->bounce));
	if (run(c, &c->admin, &e, why, len))
		return -1;
	memcpy(list, c->bounce, sizeof(list));
	for (unsigned i = 0; i < NVME_NSID_LIST_MAX && list[i]; i++)
		add_namespace(c, list[i], id->model);
	return 0;
}

static void release(struct nvme_ctrl *c)
{
	void *pages[] = { c->admin_sq, c->admin_cq, c->io_sq, c->io_cq, c->prp_list };

	for (unsigned i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (pages[i])
			page_free(pages[i], 1);
	if (c->bounce)
		page_free(c->bounce, BOUNCE_PAGES);
}

static void controller_init(struct pci_func *f)
{
	struct pci_bar *bar = &f->bar[NVME_BAR];
	struct nvme_ctrl *c = &ctrls[nctrls];
	struct nvme_ctrl_identity id;
	char where[16], why[96];

	snprintf(where, sizeof(where), "%02x:%02x.%u", f->bus, f->dev, f->fn);
	if (!bar->base || bar->io) {
		kprintf("pgvisor: nvme %s: not used: no memory BAR0\n", where);
		return;
	}
	if (paging_map_mmio(bar->base, bar->size)) {
		kprintf("pgvisor: nvme %s: not used: BAR0 at 0x%llx cannot be mapped\n", where,
			(unsigned long long)bar->base);
		return;
	}
	if (nctrls == MAX_CONTROLLERS) {
		kprintf("pgvisor: nvme %s: not used: at most %u NVMe controllers\n", where,
			MAX_CONTROLLERS);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->regs = (volatile uint8_t *)(uintptr_t)bar->base;
	c->index = nctrls;
	c->admin_sq = page_alloc(1);
	c->admin_cq = page_alloc(1);
	c->io_sq = page_alloc(1);
	c->io_cq = page_alloc(1);
	c->prp_list = page_alloc(1);
	c->bounce = page_alloc(BOUNCE_PAGES);
	if (!c->admin_sq || !c->admin_cq || !c->io_sq || !c->io_cq || !c->prp_list || !c->bounce) {
		kprintf("pgvisor: nvme %s: not used: no memory for its queues\n", where);
		release(c);
		return;
	}
	pci_claim(f, "nvme");
	pci_enable(f, false, true, true);
	int r = setup(c, &id, why, sizeof(why));
	if (!r) {
		kprintf("pgvisor: nvme %s: '%s' serial '%s', registers at 0x%llx, %u namespaces, "
			"%u KiB a command\n",
			where, id.model, id.serial, (unsigned long long)bar->base, id.namespaces,
			c->max_bytes >> 10);
		r = add_namespaces(c, &id, why, sizeof(why));
	}
	if (r) {
		kprintf("pgvisor: nvme %s: not used: %s\n", where, why);
		wr(c, REG_CC, rd(c, REG_CC) & ~CC_EN);
		if (wait_ready(c, false, COMMAND_MS, why, sizeof(why))) {
			kprintf("pgvisor: nvme %s: does not stop; its memory stays lent\n", where);
			return;
		}
		release(c);
		return;
	}
	nctrls++;
}

void nvme_probe(void)
{
	unsigned cursor = 0;
	struct pci_func *f;

	while ((f = pci_find_class(&cursor, NVME_CLASS, NVME_CLASS_MASK)))
		controller_init(f);
}
