/* What an AHCI HBA reads from memory for one command (AHCI 1.3.1, 4.2):
 * the command header in the port's command list, the command table with its
 * command FIS (the Register Host-to-Device FIS of SATA 3.x 10.5.5) and
 * PRDT; the ATA commands and IDENTIFY data are drivers/storage/ata_proto.h's.
 * Pure memory layout, no registers: drivers/storage/ahci.c
 * drives the HBA, and the host unit tests check these bytes. */
#ifndef PGVISOR_AHCI_CMD_H
#define PGVISOR_AHCI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AHCI_CMD_HEADER_SIZE 32	      /* bytes a command header */
#define AHCI_CMD_LIST_SIZE 1024	      /* 32 headers; PxCLB is 1 KiB aligned (3.3.1) */
#define AHCI_CMD_LIST_ALIGN 1024      /* PxCLB bits 9:0 are reserved (3.3.1) */
#define AHCI_RFIS_SIZE 256	      /* received-FIS area, 256-byte aligned (3.3.3, 4.2.1) */
#define AHCI_CMD_TABLE_ALIGN 128      /* CTBA bits 6:0 are reserved (4.2.2) */
#define AHCI_CMD_TABLE_PRDT 0x80      /* the PRDT follows CFIS, ACMD, reserved (4.2.3) */
#define AHCI_PRD_SIZE 16	      /* bytes a PRDT entry (4.2.3.3) */
#define AHCI_PRD_MAX_BYTES (4u << 20) /* DBC is 22 bits: 4 MiB an entry (4.2.3.3) */

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

#endif
