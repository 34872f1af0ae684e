/* Shadow EPT (nested VMX): the tables the CPU walks while a nested guest
 * (L2) runs, L1's EPT composed with the VM's own. Built lazily, a 4 KiB
 * page at a time as L2's EPT violations find them missing (a 2 MiB
 * page at a time where L1 maps one, and the CPU offers them), for one EPTP
 * of L1's at a time, and dropped whole when L1 invalidates (INVEPT) or
 * runs L2 under another EPTP. Every page they map is the VM's RAM or the
 * read-only page of all-ones that memory outside it reads as: nothing
 * else of the host. */
#ifndef PGVISOR_SHADOW_EPT_H
#define PGVISOR_SHADOW_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/nested/nested_ept.h"
#include "vmm/vmx/ept.h"

/* Table pages one vCPU's shadow may hold before it starts again (4 MiB:
 * a nested guest touching 1 GiB, or a hostile one, costs no more). */
#define SHADOW_EPT_MAX_TABLES 1024u
/* 4 KiB pages one 2 MiB shadow entry maps. */
#define SHADOW_EPT_PAGES_2M 512u

struct shadow_ept {
	struct ept ept;	  /* pml4 NULL until first used */
	uint64_t l1_eptp; /* what the tables compose; valid only with `built` */
	bool built;
	bool large; /* the CPU offers 2 MiB EPT pages: shadow_ept_map_2m */
};

/* What an L1-physical page is to the VM: its RAM at host address
 * ram_host + gpa1, or outside it. */
struct shadow_ept_ram {
	uint64_t size;	    /* bytes of RAM from guest-physical 0 */
	uint64_t host;	    /* where it lies in host memory */
	uint64_t ones_page; /* host page of all-ones bytes, mapped read-only */
};

enum shadow_ept_map { SHADOW_EPT_RAM, SHADOW_EPT_UNBACKED_READ, SHADOW_EPT_OUTSIDE };

/* The shadow entry for L1's translation w and the access that faulted:
 * L1's RAM with L1's permissions; a read of memory outside it the page of
 * all-ones, read-only (as the bare machine reads nothing); anything else
 * outside (a write, a fetch, a device) SHADOW_EPT_OUTSIDE, mapped nowhere.
 * *hpa and *perms are set for the first two. */
enum shadow_ept_map shadow_ept_compose(const struct shadow_ept_ram *ram,
				       const struct nested_ept_walk *w, uint64_t access,
				       uint64_t *hpa, uint64_t *perms);

/* The 2 MiB block for L1's translation w (of a NESTED_EPT_OK walk of an
 * access that shadow_ept_compose found in RAM): when L1's leaf maps the
 * whole aligned 2 MiB of L2-physical space around the page (2 MiB or
 * 1 GiB) to a block entirely within the VM's RAM whose host address is
 * 2 MiB aligned: true, with *hpa the block's host address and *perms
 * L1's. False otherwise: the page goes 4 KiB at a time. */
bool shadow_ept_compose_2m(const struct shadow_ept_ram *ram, const struct nested_ept_walk *w,
			   uint64_t *hpa, uint64_t *perms);

/* Makes s compose l1_eptp, with 2 MiB pages when large_pages (the CPU
 * offers them): kept as it is when it already does, emptied
 * otherwise (allocating the PML4 the first time). Returns 1 when the
 * tables were emptied (the caller invalidates the CPU's cached
 * translations for them), 0 when kept, -1 out of memory. */
int shadow_ept_use(struct shadow_ept *s, uint64_t l1_eptp, bool large_pages);
/* Drops every translation (L1's INVEPT): the next use starts empty. */
void shadow_ept_invalidate(struct shadow_ept *s);
/* Maps L2-physical page gpa2 to hpa with perms, replacing what was there;
 * empties the tables first when they have grown to SHADOW_EPT_MAX_TABLES.
 * Returns 0 or -1 (out of memory). The caller invalidates the CPU's
 * cached translations (INVEPT of the shadow's EPTP). */
int shadow_ept_map(struct shadow_ept *s, uint64_t gpa2, uint64_t hpa, uint64_t perms);
/* Maps, of the n pages from gpa2 on (4 KiB aligned), each with a
 * nonzero perms[i] that the tables do not map yet to hpa[i]: a fill
 * around an EPT violation, its entries written straight into the page
 * table that maps them. Pages already mapped keep their entry. Empties
 * the tables first when they have grown to SHADOW_EPT_MAX_TABLES.
 * Returns 0 or -1 (out of memory). The caller invalidates the CPU's
 * cached translations. */
int shadow_ept_map_new(struct shadow_ept *s, uint64_t gpa2, const uint64_t *hpa,
		       const uint64_t *perms, unsigned n);
/* Maps the aligned 2 MiB of L2-physical space holding gpa2 to hpa (2 MiB
 * aligned) with one large page and perms, when s uses large pages and
 * its tables map nothing of that region yet. Returns 1 when mapped, 0
 * when not (the caller maps 4 KiB pages), -1 out of memory. The caller
 * invalidates the CPU's cached translations. */
int shadow_ept_map_2m(struct shadow_ept *s, uint64_t gpa2, uint64_t hpa, uint64_t perms);
/* Frees the tables. */
void shadow_ept_free(struct shadow_ept *s);

#endif
