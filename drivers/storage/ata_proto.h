/* ATA commands as bytes, no I/O: what IDENTIFY DEVICE data says (ATA8-ACS
 * 7.16.7), the taskfile registers of a 28- or 48-bit LBA command (ATA8-ACS
 * 4.1, 7.x) and the physical region descriptor table a PIIX bus master
 * walks (Intel 82371SB PIIX3 datasheet 2.7.3, the same on the PIIX4).
 * drivers/storage/ata.c puts them on the controller's ports. */
#ifndef PGVISOR_ATA_PROTO_H
#define PGVISOR_ATA_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/storage/blockdev.h"

#define ATA_IDENTIFY_WORDS 256

/* Commands (ATA8-ACS chapter 7; opcode in the command register). */
#define ATA_CMD_IDENTIFY 0xec	       /* IDENTIFY DEVICE, 7.16 */
#define ATA_CMD_READ_SECTORS 0x20      /* PIO, 28-bit, 7.36 */
#define ATA_CMD_READ_SECTORS_EXT 0x24  /* PIO, 48-bit, 7.37 */
#define ATA_CMD_READ_DMA 0xc8	       /* 7.34 */
#define ATA_CMD_READ_DMA_EXT 0x25      /* 7.35 */
#define ATA_CMD_WRITE_SECTORS 0x30     /* 7.68 */
#define ATA_CMD_WRITE_SECTORS_EXT 0x34 /* 7.69 */
#define ATA_CMD_WRITE_DMA 0xca	       /* 7.58 */
#define ATA_CMD_WRITE_DMA_EXT 0x35     /* 7.59 */
#define ATA_CMD_FLUSH_CACHE 0xe7       /* 7.14 */
#define ATA_CMD_FLUSH_CACHE_EXT 0xea   /* 7.15 */

/* Sectors one command moves: the count register is 8 bits (28-bit
 * commands) or 16 (48-bit), 0 meaning the largest. */
#define ATA_MAX_SECTORS_28 256u
#define ATA_MAX_SECTORS_48 65536u
#define ATA_LBA28_LIMIT (1ull << 28)
#define ATA_LBA48_LIMIT (1ull << 48)

/* Device register (ATA8-ACS 6.2 / 7.x "Device"): bit 6 selects LBA
 * addressing, bit 4 the second drive of a channel; bits 7 and 5 are
 * obsolete and set, as older devices expect. */
#define ATA_DEVICE_OBSOLETE 0xa0
#define ATA_DEVICE_LBA 0x40
#define ATA_DEVICE_DRIVE1 0x10

struct ata_identity {
	char model[BLOCKDEV_MODEL_MAX + 1]; /* trailing spaces dropped */
	uint64_t sectors;
	bool lba48; /* the 48-bit address feature set is supported */
	bool dma;   /* DMA transfers are supported */
};

/* Decodes IDENTIFY DEVICE data: 0, or -1 with why for devices pgvisor
 * cannot use as disks (ATAPI, no LBA, no sectors). */
int ata_parse_identify(const uint16_t words[ATA_IDENTIFY_WORDS], struct ata_identity *id, char *why,
		       size_t len);

/* The command block registers of one command. For a 48-bit command the
 * controller gets each hob_ byte ("previous content") and then the current
 * byte through the same port (ATA8-ACS 4.1 "48-bit Address feature set"). */
struct ata_taskfile {
	bool lba48;
	uint8_t features, count, lba_low, lba_mid, lba_high;
	uint8_t hob_features, hob_count, hob_lba_low, hob_lba_mid, hob_lba_high;
	uint8_t device, command;
};

/* A read or write of count sectors at lba on drive 0 or 1, by DMA or PIO;
 * -1 when count is 0 or more than one command moves, or the sectors lie
 * beyond what the addressing reaches. */
int ata_taskfile_rw(struct ata_taskfile *tf, bool lba48, bool dma, bool write, unsigned drive,
		    uint64_t lba, uint32_t count);
void ata_taskfile_flush(struct ata_taskfile *tf, bool lba48, unsigned drive);
/* IDENTIFY DEVICE on drive 0 or 1. */
void ata_taskfile_identify(struct ata_taskfile *tf, unsigned drive);

/* A physical region descriptor: a buffer of up to 64 KiB below 4 GiB, on
 * an even address, within one 64 KiB page; bytes 0 means 64 KiB. */
struct ata_prd {
	uint32_t addr;
	uint16_t bytes;
	uint16_t flags;
};
#define ATA_PRD_EOT 0x8000u /* the table's last entry */
#define ATA_PRD_MAX_BYTES 0x10000u

/* Fills prd[0..max) to cover [addr, addr + len): the number of entries,
 * or -1 when the buffer is odd, empty, above 4 GiB or needs more. */
int ata_prd_build(struct ata_prd *prd, unsigned max, uint64_t addr, uint32_t len);

#endif
