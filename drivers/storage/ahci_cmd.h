/* What an AHCI HBA reads from memory for one command (AHCI 1.3.1, 4.2):
 * the command header in the port's command list, the command table with its
 * command FIS and PRDT, plus the ATA data the commands carry (the Register
 * Host-to-Device FIS of SATA 3.x 10.5.5, the IDENTIFY DEVICE words of
 * ACS-3 7.12.7). Pure memory layout, no registers: drivers/storage/ahci.c
 * drives the HBA, and the host unit tests check these bytes. */
#ifndef PGVISOR_AHCI_CMD_H
#define PGVISOR_AHCI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AHCI_CMD_SLOTS 32	      /* command headers in a command list (4.2.2) */
#define AHCI_CMD_HEADER_SIZE 32	      /* bytes a command header */
#define AHCI_CMD_LIST_SIZE 1024	      /* 32 headers; PxCLB is 1 KiB aligned (3.3.1) */
#define AHCI_CMD_LIST_ALIGN 1024      /* PxCLB bits 9:0 are reserved (3.3.1) */
#define AHCI_RFIS_SIZE 256	      /* received-FIS area, 256-byte aligned (3.3.3, 4.2.1) */
#define AHCI_CMD_TABLE_ALIGN 128      /* CTBA bits 6:0 are reserved (4.2.2) */
#define AHCI_CMD_TABLE_PRDT 0x80      /* the PRDT follows CFIS, ACMD, reserved (4.2.3) */
#define AHCI_PRD_SIZE 16	      /* bytes a PRDT entry (4.2.3.3) */
#define AHCI_PRD_MAX_BYTES (4u << 20) /* DBC is 22 bits: 4 MiB an entry (4.2.3.3) */

/* ATA commands (ACS-3 7): 48-bit DMA reads and writes, the 48-bit flush. */
#define ATA_CMD_READ_DMA_EXT 0x25
#define ATA_CMD_WRITE_DMA_EXT 0x35
#define ATA_CMD_FLUSH_CACHE_EXT 0xea
#define ATA_CMD_IDENTIFY 0xec
#define ATA_IDENTIFY_WORDS 256

/* The SATA device signature in PxSIG (AHCI 3.3.9, SATA 3.x 11.3): what a
 * device's first D2H Register FIS carried. */
#define AHCI_SIG_ATA 0x00000101u
#define AHCI_SIG_ATAPI 0xeb140101u

struct ahci_prd {
	uint64_t addr;	/* physical, even (4.2.3.3: DBA bit 0 reserved) */
	uint32_t bytes; /* even, at most AHCI_PRD_MAX_BYTES */
};

/* Fills the 20-byte Register H2D FIS (type 27h, C=1) for an ATA command
 * with a 48-bit LBA and count at fis (the command table's start, zeroed by
 * the caller to its 64 bytes). Returns its length in dwords (CFL). */
unsigned ahci_fis_h2d(uint8_t *fis, uint8_t command, uint64_t lba, uint16_t count);

/* Writes n PRDT entries at table + AHCI_CMD_TABLE_PRDT; -1 when an entry
 * is odd, empty or too long. No interrupt bit: pgvisor polls. */
int ahci_prdt_fill(uint8_t *table, const struct ahci_prd *prd, unsigned n);

/* Fills command header slot of list: FIS length cfl dwords, n PRDT
 * entries, write (device-bound data), table's physical address (128-byte
 * aligned). PRDBC is zeroed; the HBA counts the bytes it moved into it. */
void ahci_cmd_header(uint8_t *list, unsigned slot, unsigned cfl, unsigned n, bool write,
		     uint64_t table);
/* The PRDBC the HBA left in that header. */
uint32_t ahci_cmd_header_bytes(const uint8_t *list, unsigned slot);

/* What IDENTIFY DEVICE says of a disk (ACS-3 7.12.7). */
struct ata_identity {
	char model[41]; /* words 27-46, byte-swapped, trailing spaces gone */
	uint64_t sectors;
	bool lba48;
	uint32_t sector_size; /* logical sector in bytes: 512 unless words 106/117 say */
};

/* Parses the 256 IDENTIFY words; -1 with why when the device has no LBA. */
int ata_identify_parse(const uint16_t *words, struct ata_identity *id, char *why, size_t len);

#endif
