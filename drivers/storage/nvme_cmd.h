/* What an NVMe controller reads and writes in memory (NVMe 1.4): the 64-byte
 * submission queue entry of each command pgvisor sends, PRP lists, and the
 * Identify data structures it reads back. Pure memory layout, no registers:
 * drivers/storage/nvme.c drives the controller, and the host unit tests
 * check these bytes. */
#ifndef PGVISOR_NVME_CMD_H
#define PGVISOR_NVME_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NVME_PAGE 4096u /* the memory page size pgvisor sets: CC.MPS = 0 (3.1.5) */
#define NVME_IDENTIFY_BYTES 4096
#define NVME_NSID_LIST_MAX 1024 /* a CNS 02h list holds 1024 NSIDs (5.15.2.4) */

/* Admin opcodes (5, figure 139). */
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY 0x06
/* NVM command set opcodes (6, figure 346). */
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02

/* Identify CNS values (5.15.1, figure 244). */
#define NVME_CNS_NAMESPACE 0x00
#define NVME_CNS_CONTROLLER 0x01
#define NVME_CNS_ACTIVE_NSIDS 0x02

/* A submission queue entry (4.2, figure 105): little-endian, as x86 is. */
struct nvme_sqe {
	uint32_t cdw0; /* opcode 7:0, fused 9:8, PSDT 15:14, CID 31:16 */
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

/* A completion queue entry (4.6, figure 123). */
struct nvme_cqe {
	uint32_t dw0; /* command specific */
	uint32_t dw1;
	uint16_t sq_head, sq_id;
	uint16_t cid;
	uint16_t status; /* phase tag bit 0, status field 15:1 */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "an SQ entry is 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 16, "a CQ entry is 16 bytes");

/* Status field of a completion (4.6.1): type and code, 0/0 for success. */
#define NVME_STATUS_PHASE 1u
unsigned nvme_status_sct(uint16_t status);
unsigned nvme_status_sc(uint16_t status);

void nvme_cmd_identify(struct nvme_sqe *e, uint8_t cns, uint32_t nsid, uint64_t buf);
/* Create I/O Completion / Submission Queue (5.4, 5.5): physically
 * contiguous, entries slots, no interrupts; an SQ completes into cqid. */
void nvme_cmd_create_cq(struct nvme_sqe *e, uint16_t qid, uint16_t entries, uint64_t base);
void nvme_cmd_create_sq(struct nvme_sqe *e, uint16_t qid, uint16_t entries, uint16_t cqid,
			uint64_t base);
/* Read or Write (6.9, 6.15) of blocks (1..65536) logical blocks at lba. */
void nvme_cmd_rw(struct nvme_sqe *e, bool write, uint32_t nsid, uint64_t lba, uint32_t blocks,
		 uint64_t prp1, uint64_t prp2);
void nvme_cmd_flush(struct nvme_sqe *e, uint32_t nsid);

/* The PRP entries for bytes at physical addr (4.3): PRP1 is addr; PRP2 is
 * 0, the second page, or list_phys where list (list_max entries, one page
 * at most: no chaining) then names every page after the first. -1 when the
 * transfer needs more entries than that. */
int nvme_prp_build(uint64_t addr, uint32_t bytes, uint64_t *list, uint64_t list_phys,
		   unsigned list_max, uint64_t *prp1, uint64_t *prp2);

/* Identify Controller (5.15.2.2, figure 247), the fields pgvisor uses. */
struct nvme_ctrl_identity {
	char model[41];	     /* MN, bytes 63:24, trailing spaces gone */
	char serial[21];     /* SN, bytes 23:4 */
	uint8_t mdts;	     /* max transfer 2^mdts pages; 0: no limit */
	uint32_t namespaces; /* NN */
};
void nvme_identify_controller_parse(const uint8_t *data, struct nvme_ctrl_identity *id);

/* Identify Namespace (5.15.2.1, figure 245): the formatted LBA format. */
struct nvme_ns_identity {
	uint64_t blocks;     /* NSZE */
	uint32_t block_size; /* 2^LBADS bytes */
	uint16_t metadata;   /* MS bytes a block */
};
/* -1 with why when the namespace is not active (NSZE 0) or its format
 * index lies beyond NLBAF. */
int nvme_identify_namespace_parse(const uint8_t *data, struct nvme_ns_identity *id, char *why,
				  size_t len);

#endif
