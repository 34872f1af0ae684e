#include "drivers/storage/ata_proto.h"

#include <stdio.h>
#include <string.h>

/* IDENTIFY DEVICE words (ATA8-ACS 7.16.7, table 22). */
#define ID_GENERAL 0
#define ID_GENERAL_ATAPI 0x8000u /* word 0 bit 15: not an ATA device */
#define ID_MODEL 27		 /* words 27-46: 40 characters, two a word */
#define ID_MODEL_WORDS 20
#define ID_CAPABILITIES 49
#define ID_CAP_LBA 0x0200u  /* bit 9 */
#define ID_CAP_DMA 0x0100u  /* bit 8 */
#define ID_LBA28_SECTORS 60 /* words 60-61 */
#define ID_COMMAND_SET2 83
#define ID_CS2_VALID_MASK 0xc000u /* bits 15:14 read 01 when the word is valid */
#define ID_CS2_VALID 0x4000u
#define ID_CS2_LBA48 0x0400u /* bit 10 */
#define ID_LBA48_SECTORS 100 /* words 100-103 */
#define BITS_PER_WORD 16
#define BYTE_BITS 8
#define BYTE_MASK 0xffu
#define LBA28_TOP_SHIFT 24 /* LBA bits 27:24 go in the device register */
#define LBA28_TOP_MASK 0x0fu
#define FOUR_GIB (1ull << 32)
#define PAGE_64K_MASK 0xffffull

int ata_parse_identify(const uint16_t words[ATA_IDENTIFY_WORDS], struct ata_identity *id, char *why,
		       size_t len)
{
	unsigned n = 0;

	memset(id, 0, sizeof(*id));
	if (words[ID_GENERAL] & ID_GENERAL_ATAPI) {
		snprintf(why, len, "an ATAPI device, not a disk");
		return -1;
	}
	/* Each word holds two characters, the first in its high byte. */
	for (unsigned i = 0; i < ID_MODEL_WORDS; i++) {
		id->model[n++] = (char)(words[ID_MODEL + i] >> BYTE_BITS);
		id->model[n++] = (char)(words[ID_MODEL + i] & BYTE_MASK);
	}
	while (n && (id->model[n - 1] == ' ' || id->model[n - 1] == '\0'))
		n--;
	id->model[n] = '\0';
	if (!(words[ID_CAPABILITIES] & ID_CAP_LBA)) {
		snprintf(why, len, "no LBA addressing (CHS only)");
		return -1;
	}
	id->dma = words[ID_CAPABILITIES] & ID_CAP_DMA;
	id->lba48 = (words[ID_COMMAND_SET2] & ID_CS2_VALID_MASK) == ID_CS2_VALID &&
		    (words[ID_COMMAND_SET2] & ID_CS2_LBA48);
	if (id->lba48)
		for (unsigned i = 0; i < 4; i++)
			id->sectors |= (uint64_t)words[ID_LBA48_SECTORS + i] << (BITS_PER_WORD * i);
	else
		id->sectors = words[ID_LBA28_SECTORS] | (uint64_t)words[ID_LBA28_SECTORS + 1]
								<< BITS_PER_WORD;
	if (!id->sectors) {
		snprintf(why, len, "reports no sectors");
		return -1;
	}
	return 0;
}

static uint8_t byte_of(uint64_t v, unsigned i)
{
	return (uint8_t)(v >> (BYTE_BITS * i));
}

int ata_taskfile_rw(struct ata_taskfile *tf, bool lba48, bool dma, bool write, unsigned drive,
		    uint64_t lba, uint32_t count)
{
	uint32_t max = lba48 ? ATA_MAX_SECTORS_48 : ATA_MAX_SECTORS_28;
	uint64_t limit = lba48 ? ATA_LBA48_LIMIT : ATA_LBA28_LIMIT;

	if (!count || count > max || lba >= limit || count > limit - lba)
		return -1;
	memset(tf, 0, sizeof(*tf));
	tf->lba48 = lba48;
	/* The count register's 0 means the largest count (max wraps to 0). */
	tf->count = byte_of(count, 0);
	tf->lba_low = byte_of(lba, 0);
	tf->lba_mid = byte_of(lba, 1);
	tf->lba_high = byte_of(lba, 2);
	tf->device = ATA_DEVICE_OBSOLETE | ATA_DEVICE_LBA | (drive ? ATA_DEVICE_DRIVE1 : 0);
	if (lba48) {
		tf->hob_count = byte_of(count, 1);
		tf->hob_lba_low = byte_of(lba, 3);
		tf->hob_lba_mid = byte_of(lba, 4);
		tf->hob_lba_high = byte_of(lba, 5);
		tf->command = dma ? (write ? ATA_CMD_WRITE_DMA_EXT : ATA_CMD_READ_DMA_EXT)
				  : (write ? ATA_CMD_WRITE_SECTORS_EXT : ATA_CMD_READ_SECTORS_EXT);
	} else {
		tf->device |= (uint8_t)((lba >> LBA28_TOP_SHIFT) & LBA28_TOP_MASK);
		tf->command = dma ? (write ? ATA_CMD_WRITE_DMA : ATA_CMD_READ_DMA)
				  : (write ? ATA_CMD_WRITE_SECTORS : ATA_CMD_READ_SECTORS);
	}
	return 0;
}

void ata_taskfile_flush(struct ata_taskfile *tf, bool lba48, unsigned drive)
{
	memset(tf, 0, sizeof(*tf));
	tf->device = ATA_DEVICE_OBSOLETE | (drive ? ATA_DEVICE_DRIVE1 : 0);
	tf->command = lba48 ? ATA_CMD_FLUSH_CACHE_EXT : ATA_CMD_FLUSH_CACHE;
}

void ata_taskfile_identify(struct ata_taskfile *tf, unsigned drive)
{
	memset(tf, 0, sizeof(*tf));
	tf->device = ATA_DEVICE_OBSOLETE | (drive ? ATA_DEVICE_DRIVE1 : 0);
	tf->command = ATA_CMD_IDENTIFY;
}

int ata_prd_build(struct ata_prd *prd, unsigned max, uint64_t addr, uint32_t len)
{
	unsigned n = 0;

	if (!len || (addr & 1) || (len & 1) || addr >= FOUR_GIB || len > FOUR_GIB - addr)
		return -1;
	while (len) {
		/* Up to the next 64 KiB boundary: a region may not cross one. */
		uint64_t room = ATA_PRD_MAX_BYTES - (addr & PAGE_64K_MASK);
		uint32_t chunk = len < room ? len : (uint32_t)room;
		if (n == max)
			return -1;
		prd[n].addr = (uint32_t)addr;
		prd[n].bytes = (uint16_t)chunk; /* 64 KiB is written as 0 */
		prd[n].flags = 0;
		n++;
		addr += chunk;
		len -= chunk;
	}
	prd[n - 1].flags = ATA_PRD_EOT;
	return (int)n;
}
