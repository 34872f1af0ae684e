/* The AHCI HBA and its ports (AHCI 1.3.1): ownership, port start and stop,
 * one polled command at a time, error recovery. The command bytes come from
 * drivers/storage/ahci_cmd.c. */
#include "drivers/storage/ahci.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/paging.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/pci.h"
#include "drivers/storage/ahci_cmd.h"
#include "drivers/storage/ata_proto.h"
#include "drivers/storage/blockdev.h"

#define AHCI_CLASS 0x010601u /* mass storage, SATA, AHCI 1.0 (2.1.2) */
#define AHCI_CLASS_MASK 0xffffffu
#define AHCI_ABAR 5 /* ABAR is BAR5 (2.1.10) */

/* Generic host control (3.1). */
#define HBA_CAP 0x00
#define CAP_SCLO (1u << 24) /* command list override supported */
#define CAP_SSS (1u << 27)  /* staggered spin-up: PxCMD.SUD must be set */
#define CAP_S64A (1u << 31) /* 64-bit addressing */
#define HBA_GHC 0x04
#define GHC_IE (1u << 1)
#define GHC_AE (1u << 31) /* AHCI enable: the only mode pgvisor speaks (3.1.2) */
#define HBA_PI 0x0c	  /* ports implemented */
#define HBA_VS 0x10	  /* version: major 31:16, minor 15:0 (3.1.5) */
#define VS_MAJOR_SHIFT 16
#define VS_MINOR_MASK 0xffffu
#define HBA_CAP2 0x24
#define CAP2_BOH (1u << 0) /* BIOS/OS handoff supported (3.1.10) */
#define HBA_BOHC 0x28
#define BOHC_BOS (1u << 0) /* BIOS owned semaphore (3.1.11) */
#define BOHC_OOS (1u << 1) /* OS owned semaphore */
#define HBA_PORTS 32

/* Port registers (3.3): 0x80 bytes each from 0x100. */
#define PORT_BASE 0x100
#define PORT_STRIDE 0x80
#define PX_CLB 0x00
#define PX_CLBU 0x04
#define PX_FB 0x08
#define PX_FBU 0x0c
#define PX_IS 0x10
#define IS_IFS (1u << 27)  /* interface fatal error */
#define IS_HBDS (1u << 28) /* host bus data error */
#define IS_HBFS (1u << 29) /* host bus fatal error */
#define IS_TFES (1u << 30) /* task file error: the device set ERR (3.3.5) */
#define IS_ERRORS (IS_IFS | IS_HBDS | IS_HBFS | IS_TFES)
#define PX_IE 0x14
#define PX_CMD 0x18
#define CMD_ST (1u << 0)
#define CMD_SUD (1u << 1)
#define CMD_POD (1u << 2)
#define CMD_CLO (1u << 3)
#define CMD_FRE (1u << 4)
#define CMD_FR (1u << 14)
#define CMD_CR (1u << 15)
#define PX_TFD 0x20
#define TFD_ERR (1u << 0) /* status ERR (3.3.8) */
#define TFD_DRQ (1u << 3)
#define TFD_BSY (1u << 7)
#define TFD_ERROR_SHIFT 8
#define PX_SIG 0x24
#define PX_SSTS 0x28
#define SSTS_DET_MASK 0xfu
#define SSTS_DET_PRESENT 3u /* device present, PHY communication up (3.3.10) */
#define PX_SCTL 0x2c
#define SCTL_DET_MASK 0xfu
#define SCTL_DET_COMRESET 1u
#define PX_SERR 0x30
#define PX_CI 0x38

/* Timeouts: 500 ms for PxCMD.CR/FR/CLO to follow (10.1.2, 10.3.2), BIOS
 * handoff at most 2 s (10.6.3), a command 5 s. */
#define STOP_MS 500
#define HANDOFF_MS 2000
#define COMMAND_MS 5000
#define COMRESET_HOLD_MS 1 /* DET=1 held at least 1 ms (3.3.11) */
#define LINK_MS 1000
#define SETTLE_MS 1000 /* for BSY and DRQ to clear by themselves */

#define SLOT 0
#define BOUNCE_PAGES 16 /* 64 KiB */
#define BOUNCE_BYTES (BOUNCE_PAGES * PAGE_SIZE)
#define BOUNCE_SECTORS (BOUNCE_BYTES / BLOCK_SECTOR)
#define AHCI_MAX_DISKS BLOCKDEV_MAX
#define FOUR_GIB (1ull << 32)

/* One page holds a port's command list, received FIS area and command
 * table, each at an offset that keeps its alignment. */
#define PAGE_LIST 0
#define PAGE_RFIS AHCI_CMD_LIST_SIZE
#define PAGE_TABLE (PAGE_RFIS + AHCI_RFIS_SIZE)
#define TABLE_BYTES (AHCI_CMD_TABLE_PRDT + AHCI_PRD_SIZE)
_Static_assert(PAGE_LIST % AHCI_CMD_LIST_ALIGN == 0 && PAGE_RFIS % AHCI_RFIS_SIZE == 0 &&
		       PAGE_TABLE % AHCI_CMD_TABLE_ALIGN == 0 &&
		       PAGE_TABLE + TABLE_BYTES <= PAGE_SIZE,
	       "a port's structures share one page, each aligned");

struct ahci_port {
	volatile uint8_t *regs;
	uint32_t cap;
	uint8_t *list, *rfis, *table, *bounce;
	struct blockdev dev;
};

static struct ahci_port ports[AHCI_MAX_DISKS];
static unsigned nports;

/* MMIO with a compiler barrier: the command table is written before CI and
 * the bounce buffer is read after it. */
static uint32_t rd(volatile uint8_t *base, unsigned off)
{
	uint32_t v = *(volatile uint32_t *)(base + off);
	__asm__ volatile("" ::: "memory");
	return v;
}

static void wr(volatile uint8_t *base, unsigned off, uint32_t v)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)(base + off) = v;
}

static uint64_t deadline(unsigned ms)
{
	return rdtsc() + tsc_hz() / 1000 * ms;
}

/* Waits until (reg & mask) == want; 0, or -1 after ms. */
static int wait_reg(volatile uint8_t *base, unsigned off, uint32_t mask, uint32_t want, unsigned ms)
{
	uint64_t end = deadline(ms);

	while ((rd(base, off) & mask) != want) {
		if (rdtsc() > end)
			return -1;
		cpu_relax();
	}
	return 0;
}

/* Stops command processing and FIS reception (10.1.2, 10.3.2). */
static int port_stop(struct ahci_port *p)
{
	wr(p->regs, PX_CMD, rd(p->regs, PX_CMD) & ~CMD_ST);
	if (wait_reg(p->regs, PX_CMD, CMD_CR, 0, STOP_MS))
		return -1;
	wr(p->regs, PX_CMD, rd(p->regs, PX_CMD) & ~CMD_FRE);
	return wait_reg(p->regs, PX_CMD, CMD_FR, 0, STOP_MS);
}

/* Frees a port whose task file stays busy (a device still spinning up, or
 * one that hangs after an error; 6.2.2.2): command list override where the
 * HBA has it, else a COMRESET. */
static int port_unstick(struct ahci_port *p)
{
	if (!wait_reg(p->regs, PX_TFD, TFD_BSY | TFD_DRQ, 0, SETTLE_MS))
		return 0;
	if (p->cap & CAP_SCLO) {
		wr(p->regs, PX_CMD, rd(p->regs, PX_CMD) | CMD_CLO);
		return wait_reg(p->regs, PX_CMD, CMD_CLO, 0, STOP_MS);
	}
	uint32_t sctl = rd(p->regs, PX_SCTL) & ~SCTL_DET_MASK;
	wr(p->regs, PX_SCTL, sctl | SCTL_DET_COMRESET);
	uint64_t end = deadline(COMRESET_HOLD_MS);
	while (rdtsc() < end)
		cpu_relax();
	wr(p->regs, PX_SCTL, sctl);
	if (wait_reg(p->regs, PX_SSTS, SSTS_DET_MASK, SSTS_DET_PRESENT, LINK_MS))
		return -1;
	wr(p->regs, PX_SERR, ~0u);
	return wait_reg(p->regs, PX_TFD, TFD_BSY | TFD_DRQ, 0, COMMAND_MS);
}

/* Starts the port (10.3.1): FIS reception, then, once the device is idle,
 * command processing. */
static int port_start(struct ahci_port *p)
{
	uint32_t cmd = rd(p->regs, PX_CMD) | CMD_FRE;

	if (p->cap & CAP_SSS)
		cmd |= CMD_SUD | CMD_POD;
	wr(p->regs, PX_CMD, cmd);
	wr(p->regs, PX_SERR, ~0u);
	wr(p->regs, PX_IS, ~0u);
	if (port_unstick(p))
		return -1;
	wr(p->regs, PX_CMD, rd(p->regs, PX_CMD) | CMD_ST);
	return 0;
}

/* Non-queued error recovery (6.2.2.2): stop, clear the errors, start. */
static void port_recover(struct ahci_port *p)
{
	if (port_stop(p) || port_start(p))
		kprintf("pgvisor: disk %s: port does not recover from an error\n", p->dev.name);
}

/* One ATA command through slot 0, bytes of data through the bounce buffer
 * (device-bound when write). */
static int issue(struct ahci_port *p, uint8_t command, uint64_t lba, uint32_t sectors,
		 uint32_t bytes, bool write, char *why, size_t len)
{
	struct ahci_prd prd = { (uint64_t)(uintptr_t)p->bounce, bytes };
	unsigned n = bytes ? 1 : 0;
	uint64_t end = deadline(COMMAND_MS);
	uint32_t is;

	memset(p->table, 0, TABLE_BYTES);
	unsigned cfl = ahci_fis_h2d(p->table, command, lba, (uint16_t)sectors);
	if (ahci_prdt_fill(p->table, &prd, n)) {
		snprintf(why, len, "transfer of %u bytes has no PRD", bytes);
		return -1;
	}
	ahci_cmd_header(p->list, SLOT, cfl, n, write, (uint64_t)(uintptr_t)p->table);
	wr(p->regs, PX_IS, ~0u);
	wr(p->regs, PX_CI, 1u << SLOT);
	for (;;) {
		is = rd(p->regs, PX_IS);
		if (!(rd(p->regs, PX_CI) & 1u << SLOT) || (is & IS_ERRORS))
			break;
		if (rdtsc() > end) {
			snprintf(why, len, "timeout after %u ms", COMMAND_MS);
			port_recover(p);
			return -1;
		}
		cpu_relax();
	}
	/* PxTFD keeps the previous command's status until this one's D2H FIS
	 * arrives: it is read only once CI is clear or an error is flagged. */
	uint32_t tfd = rd(p->regs, PX_TFD), moved = ahci_cmd_header_bytes(p->list, SLOT);
	if ((is & IS_ERRORS) || (tfd & TFD_ERR))
		snprintf(why, len,
			 "device error status 0x%02x error 0x%02x (interrupt status 0x%08x)",
			 tfd & 0xff, (tfd >> TFD_ERROR_SHIFT) & 0xff, is);
	else if (moved != bytes)
		snprintf(why, len, "short transfer: %u of %u bytes", moved, bytes);
	else
		return 0;
	port_recover(p);
	return -1;
}

static int ahci_read(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, char *why,
		     size_t len)
{
	struct ahci_port *p = d->priv;
	uint8_t *out = buf;

	while (count) {
		uint32_t n = count < BOUNCE_SECTORS ? count : BOUNCE_SECTORS;
		if (issue(p, ATA_CMD_READ_DMA_EXT, lba, n, n * BLOCK_SECTOR, false, why, len))
			return -1;
		memcpy(out, p->bounce, n * BLOCK_SECTOR);
		out += n * BLOCK_SECTOR;
		lba += n;
		count -= n;
	}
	return 0;
}

static int ahci_write(struct blockdev *d, uint64_t lba, uint32_t count, const void *buf, char *why,
		      size_t len)
{
	struct ahci_port *p = d->priv;
	const uint8_t *in = buf;

	while (count) {
		uint32_t n = count < BOUNCE_SECTORS ? count : BOUNCE_SECTORS;
		memcpy(p->bounce, in, n * BLOCK_SECTOR);
		if (issue(p, ATA_CMD_WRITE_DMA_EXT, lba, n, n * BLOCK_SECTOR, true, why, len))
			return -1;
		in += n * BLOCK_SECTOR;
		lba += n;
		count -= n;
	}
	return 0;
}

static int ahci_flush(struct blockdev *d, char *why, size_t len)
{
	return issue(d->priv, ATA_CMD_FLUSH_CACHE_EXT, 0, 0, 0, false, why, len);
}

static const struct blockdev_ops ahci_ops = { ahci_read, ahci_write, ahci_flush };

/* Sets up and starts one port with an ATA disk, identifies it and
 * registers it; a port that fails is left stopped with one line. */
static void port_init(volatile uint8_t *abar, uint32_t cap, unsigned index, const char *hba)
{
	struct ahci_port *p = &ports[nports];
	struct ata_identity id;
	char why[96];

	memset(p, 0, sizeof(*p));
	p->regs = abar + PORT_BASE + index * PORT_STRIDE;
	p->cap = cap;
	snprintf(p->dev.name, sizeof(p->dev.name), "ahci%u", nports);
	uint8_t *page = page_alloc(1);
	p->bounce = page_alloc(BOUNCE_PAGES);
	if (!page || !p->bounce) {
		kprintf("pgvisor: ahci %s port %u: no memory for its command list\n", hba, index);
		goto free;
	}
	if (!(cap & CAP_S64A) && (uint64_t)(uintptr_t)p->bounce + BOUNCE_BYTES > FOUR_GIB) {
		kprintf("pgvisor: ahci %s port %u: 32-bit HBA, buffers above 4 GiB\n", hba, index);
		goto free;
	}
	p->list = page + PAGE_LIST;
	p->rfis = page + PAGE_RFIS;
	p->table = page + PAGE_TABLE;
	if (port_stop(p)) {
		kprintf("pgvisor: ahci %s port %u: does not stop\n", hba, index);
		goto free;
	}
	wr(p->regs, PX_IE, 0);
	wr(p->regs, PX_CLB, (uint32_t)(uintptr_t)p->list);
	wr(p->regs, PX_CLBU, (uint32_t)((uint64_t)(uintptr_t)p->list >> 32));
	wr(p->regs, PX_FB, (uint32_t)(uintptr_t)p->rfis);
	wr(p->regs, PX_FBU, (uint32_t)((uint64_t)(uintptr_t)p->rfis >> 32));
	if (port_start(p)) {
		kprintf("pgvisor: ahci %s port %u: does not start\n", hba, index);
		goto stop;
	}
	if (issue(p, ATA_CMD_IDENTIFY, 0, 0, ATA_IDENTIFY_WORDS * 2, false, why, sizeof(why)) ||
	    ata_parse_identify((const uint16_t *)p->bounce, &id, why, sizeof(why))) {
		kprintf("pgvisor: ahci %s port %u: IDENTIFY DEVICE: %s\n", hba, index, why);
		goto stop;
	}
	if (!id.lba48) {
		kprintf("pgvisor: ahci %s port %u: not used: no 48-bit LBA\n", hba, index);
		goto stop;
	}
	snprintf(p->dev.model, sizeof(p->dev.model), "%s", id.model);
	p->dev.sectors = id.sectors;
	p->dev.ops = &ahci_ops;
	p->dev.priv = p;
	if (blockdev_register(&p->dev))
		goto stop;
	nports++;
	return;
stop:
	if (port_stop(p))
		kprintf("pgvisor: ahci %s port %u: does not stop\n", hba, index);
free:
	if (page)
		page_free(page, 1);
	if (p->bounce)
		page_free(p->bounce, BOUNCE_PAGES);
}

/* Takes the HBA from the firmware (10.6.3) when it offers a handoff. */
static int take_ownership(volatile uint8_t *abar)
{
	if (!(rd(abar, HBA_CAP2) & CAP2_BOH))
		return 0;
	wr(abar, HBA_BOHC, rd(abar, HBA_BOHC) | BOHC_OOS);
	return wait_reg(abar, HBA_BOHC, BOHC_BOS, 0, HANDOFF_MS);
}

static void hba_init(struct pci_func *f)
{
	struct pci_bar *bar = &f->bar[AHCI_ABAR];
	char hba[16];

	snprintf(hba, sizeof(hba), "%02x:%02x.%u", f->bus, f->dev, f->fn);
	if (!bar->base || bar->io) {
		kprintf("pgvisor: ahci %s: not used: no memory BAR5\n", hba);
		return;
	}
	if (paging_map_mmio(bar->base, bar->size)) {
		kprintf("pgvisor: ahci %s: not used: BAR5 at 0x%llx cannot be mapped\n", hba,
			(unsigned long long)bar->base);
		return;
	}
	pci_claim(f, "ahci");
	pci_enable(f, false, true, true);
	volatile uint8_t *abar = (volatile uint8_t *)(uintptr_t)bar->base;
	if (take_ownership(abar)) {
		kprintf("pgvisor: ahci %s: not used: the firmware keeps it\n", hba);
		return;
	}
	wr(abar, HBA_GHC, (rd(abar, HBA_GHC) | GHC_AE) & ~GHC_IE);
	uint32_t cap = rd(abar, HBA_CAP), pi = rd(abar, HBA_PI), vs = rd(abar, HBA_VS);
	kprintf("pgvisor: ahci %s: version %x.%04x, registers at 0x%llx, ports 0x%08x, %s "
		"addresses\n",
		hba, vs >> VS_MAJOR_SHIFT, vs & VS_MINOR_MASK, (unsigned long long)bar->base, pi,
		cap & CAP_S64A ? "64-bit" : "32-bit");
	for (unsigned i = 0; i < HBA_PORTS; i++) {
		volatile uint8_t *port = abar + PORT_BASE + i * PORT_STRIDE;
		if (!(pi & 1u << i) || (rd(port, PX_SSTS) & SSTS_DET_MASK) != SSTS_DET_PRESENT)
			continue;
		uint32_t sig = rd(port, PX_SIG);
		if (sig != AHCI_SIG_ATA) {
			kprintf("pgvisor: ahci %s port %u: not used: signature 0x%08x%s\n", hba, i,
				sig, sig == AHCI_SIG_ATAPI ? " (ATAPI)" : "");
			continue;
		}
		if (nports == AHCI_MAX_DISKS) {
			kprintf("pgvisor: ahci %s port %u: not used: at most %u AHCI disks\n", hba,
				i, AHCI_MAX_DISKS);
			continue;
		}
		port_init(abar, cap, i, hba);
	}
}

void ahci_probe(void)
{
	unsigned cursor = 0;
	struct pci_func *f;

	while ((f = pci_find_class(&cursor, AHCI_CLASS, AHCI_CLASS_MASK)))
		hba_init(f);
}
