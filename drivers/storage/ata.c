#include "drivers/storage/ata.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/pci.h"
#include "drivers/storage/ata_proto.h"
#include "drivers/storage/blockdev.h"

/* PCI IDE controllers (PCI IDE Controller Specification 1.0, 2.1): class
 * 01h subclass 01h; prog-if bit 0 / bit 2 say the primary / secondary
 * channel decodes its own BARs ("native") instead of the legacy ports, bit
 * 7 that BAR4 is a bus master. */
#define IDE_CLASS 0x010100u
#define IDE_CLASS_MASK 0xffff00u
#define PROGIF_NATIVE(channel) (1u << (2 * (channel)))
#define PROGIF_BUS_MASTER 0x80u
#define IDE_CHANNELS 2
#define IDE_DRIVES 2
#define BAR_BUS_MASTER 4
/* Legacy ("compatibility mode") ports of the two channels. */
static const uint16_t legacy_cmd[IDE_CHANNELS] = { 0x1f0, 0x170 };
static const uint16_t legacy_ctrl[IDE_CHANNELS] = { 0x3f6, 0x376 };
/* A native channel's control BAR is 4 ports; device control is the 3rd. */
#define NATIVE_CTRL_OFFSET 2

/* Command block registers (ATA8-ACS 6.x; offsets from the channel base). */
#define REG_DATA 0
#define REG_ERROR 1    /* read */
#define REG_FEATURES 1 /* write */
#define REG_COUNT 2
#define REG_LBA_LOW 3
#define REG_LBA_MID 4
#define REG_LBA_HIGH 5
#define REG_DEVICE 6
#define REG_STATUS 7  /* read: also acknowledges the device's interrupt */
#define REG_COMMAND 7 /* write */
/* Status bits (ATA8-ACS 6.2.x "Status"). */
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DF 0x20
#define ST_BSY 0x80
/* Control block: alternate status (read) and device control (write). */
#define DEVCTL_NIEN 0x02 /* no interrupts: this driver polls */
/* Signature an ATAPI device leaves in LBA mid/high after it aborts
 * IDENTIFY DEVICE (ATA8-ACS 9.12): a packet device, not a disk. */
#define ATAPI_SIG_MID 0x14
#define ATAPI_SIG_HIGH 0xeb
#define SATAPI_SIG_MID 0x69
#define SATAPI_SIG_HIGH 0x96
/* What a status read returns with nothing on the bus (pulled up) and
 * what an emulated empty position answers. */
#define STATUS_FLOATING 0xff
#define STATUS_NONE 0x00
/* Reading the alternate status this often lets 400 ns pass after a
 * command or drive select before status is valid (ATA8-ACS 7.1). */
#define SELECT_DELAY_READS 4

/* Bus master registers (PIIX3 datasheet 2.7: BMICX, BMISX, BMIDTPX), the
 * secondary channel's 8 ports after the primary's. */
#define BM_CHANNEL_STRIDE 8
#define BM_COMMAND 0
#define BM_STATUS 2
#define BM_PRD_TABLE 4
#define BM_CMD_START 0x01
#define BM_CMD_TO_MEMORY 0x08 /* the bus master writes memory: a disk read */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02     /* write 1 to clear */
#define BM_ST_INTERRUPT 0x04 /* write 1 to clear */

/* Bus-master addresses are 32 bits wide (a PRD entry's base, BMIDTPX). */
#define DMA_LIMIT (1ull << 32)
#define BOUNCE_BYTES 0x10000u /* one PRD entry: 64 KiB in one 64 KiB page */
#define BOUNCE_SECTORS (BOUNCE_BYTES / BLOCK_SECTOR)
#define PRD_ENTRIES 1
#define WORDS_PER_SECTOR (BLOCK_SECTOR / 2)
#define MS_PER_S 1000

/* How long the device may take; a disk that lets them pass is broken. */
#define PROBE_TIMEOUT_MS 2000
#define COMMAND_TIMEOUT_MS 5000
#define FLUSH_TIMEOUT_MS 30000

#define ATA_MAX_CHANNELS 4
#define ATA_MAX_DRIVES 8

struct ata_channel {
	uint16_t cmd, ctrl, bm; /* bm 0: no bus master, PIO only */
	struct ata_prd *prd;
	uint8_t *bounce;
};

struct ata_drive {
	struct blockdev bd;
	struct ata_channel *ch;
	unsigned drive;
	bool lba48, dma;
};

static struct ata_channel channels[ATA_MAX_CHANNELS];
static unsigned nchannels;
static struct ata_drive drives[ATA_MAX_DRIVES];
static unsigned ndrives;

static uint64_t deadline_after(unsigned ms)
{
	return rdtsc() + tsc_hz() / MS_PER_S * ms;
}

static void settle(const struct ata_channel *c)
{
	for (int i = 0; i < SELECT_DELAY_READS; i++)
		inb(c->ctrl);
}

static int device_error(const struct ata_channel *c, uint8_t status, char *why, size_t len)
{
	snprintf(why, len, "device error 0x%02x (status 0x%02x)", inb(c->cmd + REG_ERROR), status);
	return -1;
}

/* Waits until BSY is clear and the bits of want are set: 0, or -1 with
 * why on ERR or DF, or when ms pass. */
static int wait_ready(const struct ata_channel *c, uint8_t want, unsigned ms, const char *what,
		      char *why, size_t len)
{
	uint64_t deadline = deadline_after(ms);

	for (;;) {
		uint8_t s = inb(c->ctrl);
		if (!(s & ST_BSY)) {
			if (s & (ST_ERR | ST_DF))
				return device_error(c, s, why, len);
			if ((s & want) == want)
				return 0;
		}
		if (rdtsc() > deadline) {
			snprintf(why, len, "timeout after %u ms waiting for %s (status 0x%02x)", ms,
				 what, s);
			return -1;
		}
		cpu_relax();
	}
}

static void select_drive(const struct ata_channel *c, uint8_t device)
{
	outb(c->cmd + REG_DEVICE, device);
	settle(c);
}

/* Selects the drive, waits until it takes commands, writes the taskfile
 * and the command. */
static int issue(const struct ata_channel *c, const struct ata_taskfile *tf, unsigned ms, char *why,
		 size_t len)
{
	select_drive(c, tf->device);
	if (wait_ready(c, 0, ms, "the drive to take a command", why, len))
		return -1;
	if (tf->lba48) {
		outb(c->cmd + REG_FEATURES, tf->hob_features);
		outb(c->cmd + REG_COUNT, tf->hob_count);
		outb(c->cmd + REG_LBA_LOW, tf->hob_lba_low);
		outb(c->cmd + REG_LBA_MID, tf->hob_lba_mid);
		outb(c->cmd + REG_LBA_HIGH, tf->hob_lba_high);
	}
	outb(c->cmd + REG_FEATURES, tf->features);
	outb(c->cmd + REG_COUNT, tf->count);
	outb(c->cmd + REG_LBA_LOW, tf->lba_low);
	outb(c->cmd + REG_LBA_MID, tf->lba_mid);
	outb(c->cmd + REG_LBA_HIGH, tf->lba_high);
	outb(c->cmd + REG_DEVICE, tf->device);
	outb(c->cmd + REG_COMMAND, tf->command);
	settle(c);
	return 0;
}

/* The command's end: BSY clear, no error; reading the status register
 * also drops the device's (masked) interrupt request. */
static int finish_command(const struct ata_channel *c, unsigned ms, const char *what, char *why,
			  size_t len)
{
	if (wait_ready(c, 0, ms, what, why, len))
		return -1;
	inb(c->cmd + REG_STATUS);
	return 0;
}

static int pio(struct ata_drive *d, uint64_t lba, uint32_t count, uint8_t *buf, bool write,
	       char *why, size_t len)
{
	struct ata_channel *c = d->ch;
	struct ata_taskfile tf;

	if (ata_taskfile_rw(&tf, d->lba48, false, write, d->drive, lba, count)) {
		snprintf(why, len, "sectors %llu+%u cannot be addressed", (unsigned long long)lba,
			 count);
		return -1;
	}
	if (issue(c, &tf, COMMAND_TIMEOUT_MS, why, len))
		return -1;
	for (uint32_t s = 0; s < count; s++) {
		uint8_t *sector = buf + (size_t)s * BLOCK_SECTOR;
		if (wait_ready(c, ST_DRQ, COMMAND_TIMEOUT_MS, "a sector's data (DRQ)", why, len))
			return -1;
		/* buf may be at any address: words go through memcpy. */
		for (unsigned w = 0; w < WORDS_PER_SECTOR; w++) {
			uint16_t word;
			if (write) {
				memcpy(&word, sector + 2 * w, sizeof(word));
				outw(c->cmd + REG_DATA, word);
			} else {
				word = inw(c->cmd + REG_DATA);
				memcpy(sector + 2 * w, &word, sizeof(word));
			}
		}
	}
	return finish_command(c, COMMAND_TIMEOUT_MS, "the command to end", why, len);
}

static int dma(struct ata_drive *d, uint64_t lba, uint32_t count, bool write, char *why, size_t len)
{
	struct ata_channel *c = d->ch;
	struct ata_taskfile tf;
	uint8_t direction = write ? 0 : BM_CMD_TO_MEMORY;
	uint64_t deadline;
	uint8_t bm_status;

	if (ata_taskfile_rw(&tf, d->lba48, true, write, d->drive, lba, count) ||
	    ata_prd_build(c->prd, PRD_ENTRIES, (uint64_t)c->bounce, count * BLOCK_SECTOR) < 0) {
		snprintf(why, len, "sectors %llu+%u cannot be addressed", (unsigned long long)lba,
			 count);
		return -1;
	}
	/* PIIX3 datasheet 2.7.3: table address and direction first, status
	 * bits cleared, then the command, then the start bit. */
	outl(c->bm + BM_PRD_TABLE, (uint32_t)(uint64_t)c->prd);
	outb(c->bm + BM_COMMAND, direction);
	outb(c->bm + BM_STATUS, BM_ST_ERROR | BM_ST_INTERRUPT);
	if (issue(c, &tf, COMMAND_TIMEOUT_MS, why, len))
		return -1;
	outb(c->bm + BM_COMMAND, direction | BM_CMD_START);
	/* Done when the bus master went idle (the PRD table is exactly the
	 * transfer) and the device is no longer busy. */
	deadline = deadline_after(COMMAND_TIMEOUT_MS);
	for (;;) {
		uint8_t s = inb(c->ctrl);
		bm_status = inb(c->bm + BM_STATUS);
		if ((bm_status & BM_ST_ERROR) || (!(bm_status & BM_ST_ACTIVE) && !(s & ST_BSY)))
			break;
		if (rdtsc() > deadline) {
			outb(c->bm + BM_COMMAND, direction);
			snprintf(why, len,
				 "timeout after %u ms waiting for the DMA transfer (status 0x%02x, "
				 "bus master 0x%02x)",
				 COMMAND_TIMEOUT_MS, s, bm_status);
			return -1;
		}
		cpu_relax();
	}
	outb(c->bm + BM_COMMAND, direction);
	outb(c->bm + BM_STATUS, BM_ST_ERROR | BM_ST_INTERRUPT);
	if (bm_status & BM_ST_ERROR) {
		snprintf(why, len, "bus master error (status 0x%02x)", bm_status);
		return -1;
	}
	return finish_command(c, COMMAND_TIMEOUT_MS, "the DMA command to end", why, len);
}

static int transfer(struct blockdev *bd, uint64_t lba, uint32_t count, uint8_t *buf, bool write,
		    char *why, size_t len)
{
	struct ata_drive *d = bd->priv;
	uint32_t max = d->dma ? BOUNCE_SECTORS : d->lba48 ? ATA_MAX_SECTORS_48 : ATA_MAX_SECTORS_28;

	while (count) {
		uint32_t n = count < max ? count : max;
		size_t bytes = (size_t)n * BLOCK_SECTOR;
		if (d->dma) {
			if (write)
				memcpy(d->ch->bounce, buf, bytes);
			if (dma(d, lba, n, write, why, len))
				return -1;
			if (!write)
				memcpy(buf, d->ch->bounce, bytes);
		} else if (pio(d, lba, n, buf, write, why, len)) {
			return -1;
		}
		lba += n;
		count -= n;
		buf += bytes;
	}
	return 0;
}

static int ata_read(struct blockdev *bd, uint64_t lba, uint32_t count, void *buf, char *why,
		    size_t len)
{
	return transfer(bd, lba, count, buf, false, why, len);
}

static int ata_write(struct blockdev *bd, uint64_t lba, uint32_t count, const void *buf, char *why,
		     size_t len)
{
	/* transfer only reads buf when writing. */
	return transfer(bd, lba, count, (uint8_t *)(uintptr_t)buf, true, why, len);
}

static int ata_flush(struct blockdev *bd, char *why, size_t len)
{
	struct ata_drive *d = bd->priv;
	struct ata_taskfile tf;

	ata_taskfile_flush(&tf, d->lba48, d->drive);
	if (issue(d->ch, &tf, COMMAND_TIMEOUT_MS, why, len))
		return -1;
	return finish_command(d->ch, FLUSH_TIMEOUT_MS, "the cache flush", why, len);
}

static const struct blockdev_ops ata_ops = { ata_read, ata_write, ata_flush };

/* IDENTIFY DEVICE: 1 when there is no device at all, 0 with the data,
 * -1 with why. */
static int identify(const struct ata_channel *c, unsigned drive, uint16_t *words, char *why,
		    size_t len)
{
	struct ata_taskfile tf;
	uint8_t s;

	ata_taskfile_identify(&tf, drive);
	select_drive(c, tf.device);
	s = inb(c->ctrl);
	if (s == STATUS_FLOATING || s == STATUS_NONE)
		return 1;
	if (issue(c, &tf, PROBE_TIMEOUT_MS, why, len))
		return -1;
	if (inb(c->ctrl) == STATUS_NONE)
		return 1;
	if (wait_ready(c, ST_DRQ, PROBE_TIMEOUT_MS, "IDENTIFY DEVICE data", why, len)) {
		uint8_t mid = inb(c->cmd + REG_LBA_MID), high = inb(c->cmd + REG_LBA_HIGH);
		if ((mid == ATAPI_SIG_MID && high == ATAPI_SIG_HIGH) ||
		    (mid == SATAPI_SIG_MID && high == SATAPI_SIG_HIGH))
			snprintf(why, len, "an ATAPI device (CD/DVD), not a disk");
		return -1;
	}
	for (unsigned i = 0; i < ATA_IDENTIFY_WORDS; i++)
		words[i] = inw(c->cmd + REG_DATA);
	return finish_command(c, PROBE_TIMEOUT_MS, "IDENTIFY DEVICE to end", why, len);
}

/* The bus master's PRD table and bounce buffer, below 4 GiB: 0, or -1
 * (the channel then does PIO). */
static int dma_buffers(struct ata_channel *c)
{
	c->prd = page_alloc(1);
	c->bounce = page_alloc_aligned(BOUNCE_BYTES / PAGE_SIZE, BOUNCE_BYTES);
	if (c->prd && c->bounce &&
	    ata_prd_build(c->prd, PRD_ENTRIES, (uint64_t)c->bounce, BOUNCE_BYTES) > 0 &&
	    (uint64_t)c->prd < DMA_LIMIT)
		return 0;
	if (c->prd)
		page_free(c->prd, 1);
	if (c->bounce)
		page_free(c->bounce, BOUNCE_BYTES / PAGE_SIZE);
	c->prd = NULL;
	c->bounce = NULL;
	return -1;
}

static void probe_drive(struct ata_channel *c, unsigned channel, unsigned drive)
{
	static const char *const position[IDE_CHANNELS][IDE_DRIVES] = {
		{ "primary master", "primary slave" },
		{ "secondary master", "secondary slave" },
	};
	uint16_t words[ATA_IDENTIFY_WORDS];
	struct ata_identity id;
	struct ata_drive *d;
	char why[160];
	int r = identify(c, drive, words, why, sizeof(why));

	if (r == 1)
		return;
	if (r || ata_parse_identify(words, &id, why, sizeof(why))) {
		kprintf("pgvisor: ata: %s: not used: %s\n", position[channel][drive], why);
		return;
	}
	if (ndrives == ATA_MAX_DRIVES) {
		kprintf("pgvisor: ata: %s: not used: at most %u ATA disks\n",
			position[channel][drive], ATA_MAX_DRIVES);
		return;
	}
	d = &drives[ndrives];
	memset(d, 0, sizeof(*d));
	snprintf(d->bd.name, sizeof(d->bd.name), "ata%u", ndrives);
	snprintf(d->bd.model, sizeof(d->bd.model), "%s", id.model);
	d->bd.sectors = id.sectors;
	d->bd.ops = &ata_ops;
	d->bd.priv = d;
	d->ch = c;
	d->drive = drive;
	d->lba48 = id.lba48;
	/* The channel's DMA buffers come with its first disk that can use
	 * them: none for a channel of CD-ROMs. */
	if (id.dma && c->bm && !c->bounce && dma_buffers(c)) {
		kprintf("pgvisor: ata: no DMA buffers below 4 GiB, PIO only\n");
		c->bm = 0;
	}
	d->dma = id.dma && c->bm;
	kprintf("pgvisor: ata: %s: %s, %s\n", position[channel][drive],
		id.lba48 ? "LBA48" : "LBA28", d->dma ? "bus-master DMA" : "PIO");
	if (!blockdev_register(&d->bd))
		ndrives++;
}

static void probe_controller(struct pci_func *f)
{
	uint8_t progif = (uint8_t)f->class_code;
	bool bus_master = (progif & PROGIF_BUS_MASTER) && f->bar[BAR_BUS_MASTER].io &&
			  f->bar[BAR_BUS_MASTER].base;

	pci_claim(f, "ata");
	pci_enable(f, true, false, bus_master);
	for (unsigned ch = 0; ch < IDE_CHANNELS; ch++) {
		struct ata_channel *c;
		if (nchannels == ATA_MAX_CHANNELS) {
			kprintf("pgvisor: ata: at most %u IDE channels\n", ATA_MAX_CHANNELS);
			return;
		}
		c = &channels[nchannels];
		if (progif & PROGIF_NATIVE(ch)) {
			c->cmd = (uint16_t)f->bar[2 * ch].base;
			c->ctrl = (uint16_t)(f->bar[2 * ch + 1].base + NATIVE_CTRL_OFFSET);
		} else {
			c->cmd = legacy_cmd[ch];
			c->ctrl = legacy_ctrl[ch];
		}
		if (!c->cmd)
			continue;
		nchannels++;
		c->bm = bus_master
				? (uint16_t)(f->bar[BAR_BUS_MASTER].base + ch * BM_CHANNEL_STRIDE)
				: 0;
		/* No interrupts: every wait polls. */
		outb(c->ctrl, DEVCTL_NIEN);
		if (inb(c->ctrl) == STATUS_FLOATING)
			continue; /* nothing on this channel */
		for (unsigned drive = 0; drive < IDE_DRIVES; drive++)
			probe_drive(c, ch, drive);
	}
}

void ata_probe(void)
{
	unsigned cursor = 0;
	struct pci_func *f;

	while ((f = pci_find_class(&cursor, IDE_CLASS, IDE_CLASS_MASK)))
		probe_controller(f);
}
