/* Dirty logging: which guest frames were written since the log was last
 * taken, for the rounds of a live migration. Three mechanisms, one log
 * (a bit per frame):
 *
 * - DIRTY_WP: every RAM leaf of the EPT loses its write permission; the
 *   first write to a page exits with an EPT violation, which marks the
 *   frame and gives the permission back (dirty_log_write_fault).
 * - DIRTY_AD: the EPT's accessed/dirty flags (SDM 29.3.5): the CPU sets
 *   bit 9 of a leaf on the first write through it; a scan marks the
 *   frames whose bit is set and clears it (then INVEPT, so the CPU sets
 *   it again on the next write).
 * - DIRTY_PML: page-modification logging (SDM 29.3.6) on top of the A/D
 *   flags: the CPU appends the guest-physical address of each page whose
 *   D flag it sets to a 512-entry log and exits ("PML full") when the
 *   log is full; a drain marks the frames and clears their D flags.
 *
 * All three need 4 KiB leaves (ept_split). Pure over the EPT and log
 * memory: unit-tested on the host over tables built by ept.c. The VMCS
 * side (the EPTP's A/D bit, the PML controls) is vmm/cpu/dirty_vcpu.c. */
#ifndef PGVISOR_DIRTY_LOG_H
#define PGVISOR_DIRTY_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vmx/ept.h"

enum dirty_mode { DIRTY_OFF, DIRTY_WP, DIRTY_AD, DIRTY_PML };

#define PML_ENTRIES 512			  /* a 4 KiB page of 8-byte addresses */
#define PML_INDEX_START (PML_ENTRIES - 1) /* the index counts down from 511 */
#define DIRTY_PAGE_SHIFT 12
#define DIRTY_WORD_BITS 64

struct dirty_log {
	enum dirty_mode mode;
	uint64_t pages;	  /* the frames logged: [0, pages) */
	uint64_t *bitmap; /* a bit a frame: written since the last take */
	uint64_t words;	  /* 64-bit words of bitmap */
	uint64_t events;  /* WP: write faults; PML: full-log exits */
};

/* The name of a mode, for the console ("write-protect", ...). */
const char *dirty_mode_name(enum dirty_mode mode);
/* Allocates an empty log of pages frames in mode. 0, or -1 (no memory). */
int dirty_log_init(struct dirty_log *d, enum dirty_mode mode, uint64_t pages);
void dirty_log_free(struct dirty_log *d);
/* Marks frame gfn (ignored past the log's end). */
static inline void dirty_log_mark(struct dirty_log *d, uint64_t gfn)
{
	if (gfn < d->pages)
		d->bitmap[gfn / DIRTY_WORD_BITS] |= 1ull << (gfn % DIRTY_WORD_BITS);
}
/* pgvisor's own write of len bytes at gpa into the VM's RAM (a virtio
 * ring or buffer, a kvm-clock, steal-time or PV EOI record): the EPT's
 * D flags, PML and write-protection see only the guest's writes, so the
 * writer marks its frames itself. Nothing while the log is off. Called on
 * the CPU that runs the VM, as the log is taken there. */
static inline void dirty_log_note(struct dirty_log *d, uint64_t gpa, uint64_t len)
{
	if (!d || d->mode == DIRTY_OFF || !len)
		return;
	for (uint64_t f = gpa >> DIRTY_PAGE_SHIFT; f <= (gpa + len - 1) >> DIRTY_PAGE_SHIFT; f++)
		dirty_log_mark(d, f);
}
static inline bool dirty_log_test(const uint64_t *bitmap, uint64_t gfn)
{
	return bitmap[gfn / DIRTY_WORD_BITS] >> (gfn % DIRTY_WORD_BITS) & 1;
}
/* ORs the log into out (d->words words) and empties it; returns how many
 * frames it held. */
uint64_t dirty_log_take(struct dirty_log *d, uint64_t *out);

/* The RAM's leaves [0, pages) of e: write permission off (on: false) or
 * back on (on: true), for the frames set in bitmap (NULL: all). The
 * caller invalidates cached translations (INVEPT) after taking it away. */
void dirty_ept_write_perm(struct ept *e, uint64_t pages, const uint64_t *bitmap, bool on);
/* A write the EPT refused at gpa: when d write-protects that frame, it
 * is marked, writable again, and true returned (the guest retries the
 * write; the violation itself invalidated the stale translation, SDM
 * 29.4.3.1). false: not the log's doing. */
bool dirty_log_write_fault(struct dirty_log *d, struct ept *e, uint64_t gpa);
/* The A/D scan: every RAM leaf with its dirty flag set marks its frame
 * and has the flag cleared, in the page tables whose PDE's accessed flag
 * is set (cleared too: the others were not walked through since the last
 * scan or dirty_ept_clear_ad). Returns the frames found. The caller
 * invalidates cached translations (INVEPT) before the guest runs again. */
uint64_t dirty_ept_scan_ad(struct dirty_log *d, struct ept *e);
/* Clears the accessed and dirty flags of every RAM leaf and of the PDEs
 * above them (before the first round; the caller invalidates). */
void dirty_ept_clear_ad(struct ept *e, uint64_t pages);
/* A PML log drained: entries [index + 1, PML_ENTRIES) hold guest-physical
 * addresses (index as the VMCS holds it after the CPU's last write; 0xffff
 * when full: it wrapped, SDM 29.3.6). Each frame is marked and its dirty
 * flag cleared, so its next write is logged again. Returns the entries. */
unsigned dirty_pml_drain(struct dirty_log *d, struct ept *e, const uint64_t *pml, uint16_t index);

#endif
