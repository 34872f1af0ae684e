#include "drivers/storage/nvme_cmd.h"

#include <stdio.h>
#include <string.h>

/* Completion status field (4.6.1, figure 125), above the phase tag. */
#define STATUS_SC_SHIFT 1
#define STATUS_SC_MASK 0xffu
#define STATUS_SCT_SHIFT 9
#define STATUS_SCT_MASK 0x7u

/* Create I/O queue dwords (5.4, 5.5): 0's based size in CDW10 31:16. */
#define QSIZE_SHIFT 16
#define QUEUE_PC (1u << 0) /* physically contiguous */
#define CQ_IEN (1u << 1)   /* interrupts enabled: left clear, pgvisor polls */
#define SQ_CQID_SHIFT 16
#define RW_NLB_MASK 0xffffu /* CDW12 15:0: 0's based block count (6.9) */

/* Identify Controller bytes (figure 247). */
#define IDC_SN 4
#define IDC_SN_LEN 20
#define IDC_MN 24
#define IDC_MN_LEN 40
#define IDC_MDTS 77
#define IDC_NN 516
/* Identify Namespace bytes (figure 245). */
#define IDN_NSZE 0
#define IDN_NLBAF 25 /* number of LBA formats, 0's based */
#define IDN_FLBAS 26
#define FLBAS_FORMAT_MASK 0xfu
#define IDN_LBAF 128 /* LBA format descriptors, 4 bytes each (figure 248) */
#define LBAF_MS_MASK 0xffffu
#define LBAF_LBADS_SHIFT 16
#define LBAF_LBADS_MASK 0xffu
#define LBADS_MIN 9  /* 512-byte blocks, the smallest (figure 248) */
#define LBADS_MAX 31 /* what a uint32_t block size holds */

unsigned nvme_status_sct(uint16_t status)
{
	return status >> STATUS_SCT_SHIFT & STATUS_SCT_MASK;
}

unsigned nvme_status_sc(uint16_t status)
{
	return status >> STATUS_SC_SHIFT & STATUS_SC_MASK;
}

static void clear(struct nvme_sqe *e, uint8_t opcode, uint32_t nsid)
{
	memset(e, 0, sizeof(*e));
	e->cdw0 = opcode;
	e->nsid = nsid;
}

void nvme_cmd_identify(struct nvme_sqe *e, uint8_t cns, uint32_t nsid, uint64_t buf)
{
	clear(e, NVME_ADMIN_IDENTIFY, nsid);
	e->prp1 = buf;
	e->cdw10 = cns;
}

void nvme_cmd_create_cq(struct nvme_sqe *e, uint16_t qid, uint16_t entries, uint64_t base)
{
	clear(e, NVME_ADMIN_CREATE_CQ, 0);
	e->prp1 = base;
	e->cdw10 = (uint32_t)(entries - 1) << QSIZE_SHIFT | qid;
	e->cdw11 = QUEUE_PC;
}

void nvme_cmd_create_sq(struct nvme_sqe *e, uint16_t qid, uint16_t entries, uint16_t cqid,
			uint64_t base)
{
	clear(e, NVME_ADMIN_CREATE_SQ, 0);
	e->prp1 = base;
	e->cdw10 = (uint32_t)(entries - 1) << QSIZE_SHIFT | qid;
	e->cdw11 = (uint32_t)cqid << SQ_CQID_SHIFT | QUEUE_PC;
}

void nvme_cmd_rw(struct nvme_sqe *e, bool write, uint32_t nsid, uint64_t lba, uint32_t blocks,
		 uint64_t prp1, uint64_t prp2)
{
	clear(e, write ? NVME_CMD_WRITE : NVME_CMD_READ, nsid);
	e->prp1 = prp1;
	e->prp2 = prp2;
	e->cdw10 = (uint32_t)lba;
	e->cdw11 = (uint32_t)(lba >> 32);
	e->cdw12 = (blocks - 1) & RW_NLB_MASK;
}

void nvme_cmd_flush(struct nvme_sqe *e, uint32_t nsid)
{
	clear(e, NVME_CMD_FLUSH, nsid);
}

int nvme_prp_build(uint64_t addr, uint32_t bytes, uint64_t *list, uint64_t list_phys,
		   unsigned list_max, uint64_t *prp1, uint64_t *prp2)
{
	uint64_t first = addr & ~(uint64_t)(NVME_PAGE - 1);
	uint64_t pages = (addr - first + bytes + NVME_PAGE - 1) / NVME_PAGE;

	*prp1 = addr;
	*prp2 = 0;
	if (pages <= 1)
		return 0;
	if (pages == 2) {
		*prp2 = first + NVME_PAGE;
		return 0;
	}
	if (pages - 1 > list_max)
		return -1;
	for (uint64_t i = 1; i < pages; i++)
		list[i - 1] = first + i * NVME_PAGE;
	*prp2 = list_phys;
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An ASCII field padded with spaces, as a C string. */
static void text(char *out, const uint8_t *in, unsigned n)
{
	memcpy(out, in, n);
	while (n && (out[n - 1] == ' ' || !out[n - 1]))
		n--;
	out[n] = 0;
}

void nvme_identify_controller_parse(const uint8_t *d, struct nvme_ctrl_identity *id)
{
	text(id->model, d + IDC_MN, IDC_MN_LEN);
	text(id->serial, d + IDC_SN, IDC_SN_LEN);
	id->mdts = d[IDC_MDTS];
	id->namespaces = get32(d + IDC_NN);
}

int nvme_identify_namespace_parse(const uint8_t *d, struct nvme_ns_identity *id, char *why,
				  size_t len)
{
	unsigned format = d[IDN_FLBAS] & FLBAS_FORMAT_MASK;

	id->blocks = (uint64_t)get32(d + IDN_NSZE + 4) << 32 | get32(d + IDN_NSZE);
	if (!id->blocks) {
		snprintf(why, len, "not active");
		return -1;
	}
	if (format > d[IDN_NLBAF]) {
		snprintf(why, len, "LBA format %u of %u", format, d[IDN_NLBAF] + 1u);
		return -1;
	}
	uint32_t lbaf = get32(d + IDN_LBAF + 4 * format);
	unsigned lbads = lbaf >> LBAF_LBADS_SHIFT & LBAF_LBADS_MASK;
	if (lbads < LBADS_MIN || lbads > LBADS_MAX) {
		snprintf(why, len, "block size 2^%u", lbads);
		return -1;
	}
	id->block_size = 1u << lbads;
	id->metadata = (uint16_t)(lbaf & LBAF_MS_MASK);
	return 0;
}
