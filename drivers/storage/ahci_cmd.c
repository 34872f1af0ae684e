#include "drivers/storage/ahci_cmd.h"

#include <string.h>

/* Register H2D FIS (SATA 3.x 10.5.5). */
#define FIS_TYPE_REG_H2D 0x27
#define FIS_H2D_COMMAND (1u << 7) /* C: the FIS updates the command register */
#define FIS_H2D_DWORDS 5
#define FIS_DEVICE_LBA (1u << 6) /* device register: LBA addressing (ACS-3 7.25.2) */

/* Command header dword 0 (AHCI 1.3.1, 4.2.2). */
#define HDR_CFL_MASK 0x1fu
#define HDR_WRITE (1u << 6)
#define HDR_PRDTL_SHIFT 16
/* PRDT entry dword 3 (4.2.3.3): DBC is the byte count less one. */
#define PRD_DBC_MASK 0x3fffffu

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

unsigned ahci_fis_h2d(uint8_t *fis, uint8_t command, uint64_t lba, uint16_t count)
{
	fis[0] = FIS_TYPE_REG_H2D;
	fis[1] = FIS_H2D_COMMAND;
	fis[2] = command;
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[6] = (uint8_t)(lba >> 16);
	fis[7] = FIS_DEVICE_LBA;
	fis[8] = (uint8_t)(lba >> 24);
	fis[9] = (uint8_t)(lba >> 32);
	fis[10] = (uint8_t)(lba >> 40);
	fis[12] = (uint8_t)count;
	fis[13] = (uint8_t)(count >> 8);
	return FIS_H2D_DWORDS;
}

int ahci_prdt_fill(uint8_t *table, const struct ahci_prd *prd, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = table + AHCI_CMD_TABLE_PRDT + i * AHCI_PRD_SIZE;
		if (!prd[i].bytes || prd[i].bytes > AHCI_PRD_MAX_BYTES || (prd[i].bytes & 1) ||
		    (prd[i].addr & 1))
			return -1;
		put32(e, (uint32_t)prd[i].addr);
		put32(e + 4, (uint32_t)(prd[i].addr >> 32));
		put32(e + 8, 0);
		put32(e + 12, (prd[i].bytes - 1) & PRD_DBC_MASK);
	}
	return 0;
}

void ahci_cmd_header(uint8_t *list, unsigned slot, unsigned cfl, unsigned n, bool write,
		     uint64_t table)
{
	uint8_t *h = list + slot * AHCI_CMD_HEADER_SIZE;

	memset(h, 0, AHCI_CMD_HEADER_SIZE);
	put32(h, (cfl & HDR_CFL_MASK) | (write ? HDR_WRITE : 0) | (uint32_t)n << HDR_PRDTL_SHIFT);
	put32(h + 8, (uint32_t)table);
	put32(h + 12, (uint32_t)(table >> 32));
}

uint32_t ahci_cmd_header_bytes(const uint8_t *list, unsigned slot)
{
	return get32(list + slot * AHCI_CMD_HEADER_SIZE + 4);
}
